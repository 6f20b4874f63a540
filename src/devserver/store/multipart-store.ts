import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { S3Error, noSuchUpload } from '../s3-error.js';
import type { FsStore } from './fs-store.js';
import type { ObjectAttributes, ObjectMeta } from './object-meta.js';

/** Limits from https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;

export interface UploadInfo {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: string;
  attributes: ObjectAttributes;
}

export interface PartInfo {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: string;
}

/**
 * Multipart uploads, one directory per upload under .devserver/multipart/<upload id>/
 * holding upload.json plus part-<n>.data and part-<n>.json per part. Completing an upload
 * concatenates the parts into one temp file and commits it like a PutObject.
 */
export class MultipartStore {
  constructor(private readonly store: FsStore) {}

  async createUpload(bucket: string, key: string, attributes: ObjectAttributes): Promise<string> {
    await this.store.requireBucket(bucket);
    const uploadId = randomBytes(16).toString('hex');
    const dir = this.uploadDir(uploadId);
    await mkdir(dir);
    const info: UploadInfo = { uploadId, bucket, key, initiated: new Date().toISOString(), attributes };
    await writeFile(join(dir, 'upload.json'), JSON.stringify(info));
    return uploadId;
  }

  /** Loads an upload and checks that it belongs to the bucket and key of the request. */
  async getUpload(bucket: string, key: string, uploadId: string): Promise<UploadInfo> {
    if (!/^[0-9a-f]{32}$/.test(uploadId)) {
      throw noSuchUpload(uploadId);
    }
    let info: UploadInfo;
    try {
      info = JSON.parse(await readFile(join(this.uploadDir(uploadId), 'upload.json'), 'utf8')) as UploadInfo;
    } catch {
      throw noSuchUpload(uploadId);
    }
    if (info.bucket !== bucket || info.key !== key) {
      throw noSuchUpload(uploadId);
    }
    return info;
  }

  async commitPart(upload: UploadInfo, partNumber: number, tempPath: string, part: { etag: string; size: number }): Promise<PartInfo> {
    const dir = this.uploadDir(upload.uploadId);
    const info: PartInfo = { partNumber, ...part, lastModified: new Date().toISOString() };
    await rename(tempPath, join(dir, `part-${partNumber}.data`));
    await writeFile(join(dir, `part-${partNumber}.json`), JSON.stringify(info));
    return info;
  }

  async listParts(upload: UploadInfo): Promise<PartInfo[]> {
    const dir = this.uploadDir(upload.uploadId);
    const names = (await readdir(dir)).filter((name) => /^part-\d+\.json$/.test(name));
    const parts = await Promise.all(
      names.map(async (name) => JSON.parse(await readFile(join(dir, name), 'utf8')) as PartInfo),
    );
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** Uploads in progress in a bucket, sorted by key and then initiation time, as S3 lists them. */
  async listUploads(bucket: string): Promise<UploadInfo[]> {
    await this.store.requireBucket(bucket);
    const uploads: UploadInfo[] = [];
    for (const uploadId of await readdir(this.store.multipartDir)) {
      try {
        const info = JSON.parse(await readFile(join(this.uploadDir(uploadId), 'upload.json'), 'utf8')) as UploadInfo;
        if (info.bucket === bucket) {
          uploads.push(info);
        }
      } catch {
        // An upload being aborted right now; it is not listed.
      }
    }
    return uploads.sort((a, b) =>
      a.key === b.key ? a.initiated.localeCompare(b.initiated) : Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)),
    );
  }

  async abortUpload(upload: UploadInfo): Promise<void> {
    await rm(this.uploadDir(upload.uploadId), { recursive: true, force: true });
  }

  /**
   * Joins the requested parts into the object. The checks and error codes follow
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
   */
  async completeUpload(upload: UploadInfo, requested: Array<{ partNumber: number; etag: string }>): Promise<ObjectMeta> {
    const parts = await this.checkRequestedParts(upload, requested);

    const temp = this.store.createTempFile();
    const md5s: Buffer[] = [];
    try {
      for (const part of parts) {
        const source = createReadStream(join(this.uploadDir(upload.uploadId), `part-${part.partNumber}.data`));
        await pipeline(source, temp.stream, { end: false });
        md5s.push(Buffer.from(part.etag, 'hex'));
      }
      await new Promise<void>((resolve, reject) => temp.stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
    } catch (error) {
      temp.stream.destroy();
      await this.store.discardTemp(temp.path);
      throw error;
    }

    const etag = `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${parts.length}`;
    const size = parts.reduce((total, part) => total + part.size, 0);
    const meta = await this.store.commitObject(upload.bucket, upload.key, temp.path, { size, etag, ...upload.attributes });
    await this.abortUpload(upload);
    return meta;
  }

  private async checkRequestedParts(
    upload: UploadInfo,
    requested: Array<{ partNumber: number; etag: string }>,
  ): Promise<PartInfo[]> {
    if (requested.length === 0) {
      throw new S3Error(400, 'MalformedXML', 'the CompleteMultipartUpload request lists no parts');
    }
    const stored = new Map((await this.listParts(upload)).map((part) => [part.partNumber, part]));
    const parts: PartInfo[] = [];
    let previous = 0;
    for (const [index, wanted] of requested.entries()) {
      if (wanted.partNumber <= previous) {
        throw new S3Error(400, 'InvalidPartOrder', 'the parts must be listed in ascending order of part number');
      }
      previous = wanted.partNumber;
      const part = stored.get(wanted.partNumber);
      if (part === undefined || part.etag !== wanted.etag.replace(/"/g, '').toLowerCase()) {
        throw new S3Error(
          400,
          'InvalidPart',
          `part ${wanted.partNumber} was not uploaded or its ETag does not match; upload it again or list the parts`,
        );
      }
      if (index < requested.length - 1 && part.size < MIN_PART_SIZE) {
        throw new S3Error(
          400,
          'EntityTooSmall',
          `part ${wanted.partNumber} has ${part.size} bytes; every part but the last needs at least ${MIN_PART_SIZE}`,
        );
      }
      parts.push(part);
    }
    return parts;
  }

  private uploadDir(uploadId: string): string {
    return join(this.store.multipartDir, uploadId);
  }
}
