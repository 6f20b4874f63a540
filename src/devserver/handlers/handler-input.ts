import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PayloadCheck } from '../auth/authenticate.js';
import type { TemporaryCredentialStore } from '../auth/temporary-credentials.js';
import type { RequestContext } from '../request-context.js';
import type { RootCredentials } from '../root-credentials.js';
import type { FsStore } from '../store/fs-store.js';
import type { MultipartStore } from '../store/multipart-store.js';

/** Everything a handler needs for one request; the handler ends `res`, or throws an S3Error. */
export interface HandlerInput {
  req: IncomingMessage;
  res: ServerResponse;
  context: RequestContext;
  payload: PayloadCheck;
  store: FsStore;
  multipart: MultipartStore;
  credentials: RootCredentials;
  temporaryCredentials: TemporaryCredentialStore;
}

export type Handler = (input: HandlerInput) => Promise<void>;

export function bucketOf(input: HandlerInput): string {
  return input.context.bucket!;
}

export function keyOf(input: HandlerInput): string {
  return input.context.key!;
}
