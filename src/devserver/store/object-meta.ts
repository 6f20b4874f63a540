/** What the store keeps about one object in its JSON sidecar file. */
export interface ObjectMeta {
  key: string;
  size: number;
  /** Hex MD5 of the data, or `<hex md5 of the part MD5s>-<part count>` for a multipart object. */
  etag: string;
  /** ISO 8601. */
  lastModified: string;
  contentType: string;
  /** `x-amz-meta-*` headers, lowercase names without the prefix. */
  userMetadata: Record<string, string>;
  /** Stored standard headers returned on GET: cache-control, content-disposition and so on. */
  headers: Record<string, string>;
  /** File name of the data, inside the bucket directory. */
  dataFile: string;
}

/** The object attributes a client chooses when it writes an object. */
export interface ObjectAttributes {
  contentType: string;
  userMetadata: Record<string, string>;
  headers: Record<string, string>;
}
