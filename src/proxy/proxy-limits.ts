import type { UpstreamLimits } from './upstream-pool.js';

/** Size limits and timeouts of the proxy. Every value is documented in docs/proxy.md. */
export interface ProxyLimits extends UpstreamLimits {
  /** Max bytes of request line plus headers; larger requests get 431. */
  maxHeaderSize: number;
  /** Time a client has to send the complete request line and headers. */
  headersTimeoutMs: number;
  /** Max bytes of a POST form read to find its credential field before the file. */
  maxFormPrefixBytes: number;
  /** Max bytes of an STS AssumeRole* response read for the temporary access key. */
  maxAssumeRoleResponseBytes: number;
  /** Max temporary access keys learned from STS responses and kept until they expire. */
  maxLearnedKeys: number;
  /** How often Node checks connections against headersTimeoutMs. */
  connectionsCheckingIntervalMs: number;
  /** How long an idle client keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** A client connection with no traffic in either direction for this long is closed. */
  socketIdleTimeoutMs: number;
  /** An upstream request with no traffic for this long fails with 504. */
  upstreamIdleTimeoutMs: number;
  reloadDebounceMs: number;
  reloadPollIntervalMs: number;
  /** Min interval between two log lines for the same tenant and upstream error code. */
  errorLogIntervalMs: number;
}

export const DEFAULT_PROXY_LIMITS: ProxyLimits = {
  // S3 limits a PUT request header to 8 KB; 32 KiB leaves room for long presigned URLs
  // (the request line counts too) while staying bounded. Node's default is 16 KiB.
  maxHeaderSize: 32 * 1024,
  // A slowloris client that sends a byte a second never completes its headers in time.
  headersTimeoutMs: 20_000,
  // S3 rejects more than 20480 bytes of fields before the file (the MaxPostPreDataLengthBytes
  // element of its MaxPostPreDataLengthExceeded error), so 64 KiB fits every form S3 accepts.
  maxFormPrefixBytes: 64 * 1024,
  // A MinIO AssumeRole response is about 1 KiB; a session policy can make it larger.
  maxAssumeRoleResponseBytes: 64 * 1024,
  // About 100 bytes each, so the store stays below roughly 10 MiB (an estimate).
  maxLearnedKeys: 100_000,
  connectionsCheckingIntervalMs: 5_000,
  keepAliveTimeoutMs: 5_000,
  // Long enough for a slow server-side operation, such as a large CopyObject.
  socketIdleTimeoutMs: 300_000,
  upstreamIdleTimeoutMs: 300_000,
  connectTimeoutMs: 5_000,
  // Below the 5 s keep-alive timeout of Node servers such as the development server, so
  // the proxy drops an idle connection before the server does and never reuses a
  // connection that the server is closing.
  freeSocketTimeoutMs: 4_000,
  maxSockets: 256,
  maxFreeSockets: 64,
  reloadDebounceMs: 50,
  reloadPollIntervalMs: 2_000,
  errorLogIntervalMs: 5_000,
};
