import type { IncomingMessage, ServerResponse } from 'node:http';
import { queryHasCredential } from '../s3/credentials.js';
import type { S3ErrorBody } from '../s3/error-response.js';
import { FormCredentialScanner, parseFormBoundary, type FormScanResult } from './form-credential-scanner.js';
import { forwardRequest, sendFailure, type ForwardSettings } from './forward-request.js';
import type { ScannedRequestHeaders } from './hop-by-hop.js';
import type { RouteIndex } from './route-index.js';
import { selectRouteByAccessKey, selectRouteByHost, type RouteSelection } from './select-route.js';

/**
 * Returns the form boundary when the request is a browser POST upload whose credential
 * sits in the form: a POST with a `multipart/form-data` body and no Authorization header
 * or credential query. Other requests pay one method comparison.
 */
export function formUploadBoundary(req: IncomingMessage, headers: ScannedRequestHeaders): string | undefined {
  if (req.method !== 'POST' || headers.authorization.length > 0) {
    return undefined;
  }
  const contentType = req.headers['content-type'];
  if (contentType === undefined) {
    return undefined;
  }
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  if (queryStart !== -1 && queryHasCredential(url.slice(queryStart + 1))) {
    return undefined;
  }
  return parseFormBoundary(contentType);
}

export interface FormUploadContext {
  /** Returns the current routing table, read when the decision is made. */
  currentIndex: () => RouteIndex | undefined;
  headers: ScannedRequestHeaders;
  expectContinue: boolean;
  settings: ForwardSettings;
  maxPrefixBytes: number;
}

/**
 * Reads the form fields of a POST upload until the credential field, selects the tenant
 * by its access key, then forwards the bytes read followed by the rest of the body,
 * unchanged. A form without a credential before the file is anonymous and routes by
 * Host. At most `maxPrefixBytes` plus one chunk are held before forwarding starts.
 */
export function forwardFormUpload(req: IncomingMessage, res: ServerResponse, boundary: string, context: FormUploadContext): void {
  if (boundary === '') {
    rejectForm(req, res, context, MISSING_BOUNDARY);
    return;
  }
  if (context.expectContinue) {
    // The tenant is known only after the fields arrive, so the proxy sends 100 Continue itself.
    res.writeContinue();
  }

  const scanner = new FormCredentialScanner(boundary, context.maxPrefixBytes);
  const chunks: Buffer[] = [];
  const finish = (result: FormScanResult): void => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.pause();
    decide(req, res, context, result, chunks);
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    const result = scanner.push(chunk);
    if (result.kind !== 'need-more') {
      finish(result);
    }
  };
  const onEnd = (): void => finish(scanner.end());

  req.on('data', onData);
  req.on('end', onEnd);
}

function decide(
  req: IncomingMessage,
  res: ServerResponse,
  context: FormUploadContext,
  result: FormScanResult,
  chunks: Buffer[],
): void {
  let selection: RouteSelection;
  switch (result.kind) {
    case 'found':
      selection = selectRouteByAccessKey(context.currentIndex(), result.accessKey);
      break;
    case 'anonymous':
      selection = selectRouteByHost(context.currentIndex(), context.headers.host, ANONYMOUS_FORM_NOT_ROUTED);
      break;
    case 'error':
      rejectForm(req, res, context, result.error);
      return;
    case 'need-more':
      throw new Error('the form scanner returned need-more as a decision');
  }

  if (selection.failure !== undefined) {
    sendFailure(res, selection.failure, req.method, context.settings.retryAfterSeconds, !req.readableEnded);
    return;
  }
  forwardRequest(req, res, selection.route, context.headers, false, context.settings, chunks);
}

/** Sends a 400 or 403 and closes the connection, so that the rest of a large body is not read. */
function rejectForm(req: IncomingMessage, res: ServerResponse, context: FormUploadContext, error: S3ErrorBody): void {
  sendFailure(res, { error, retryAfter: false }, req.method, context.settings.retryAfterSeconds, !req.readableEnded);
}

const MISSING_BOUNDARY: S3ErrorBody = {
  status: 400,
  code: 'MalformedPOSTRequest',
  message: 'The body of your POST request is not well-formed multipart/form-data: the Content-Type has no valid boundary parameter.',
};

const ANONYMOUS_FORM_NOT_ROUTED: S3ErrorBody = {
  status: 403,
  code: 'AccessDenied',
  message:
    'Access Denied. The POST form has no x-amz-credential or AWSAccessKeyId field before the file, and its Host matches no tenant.',
};
