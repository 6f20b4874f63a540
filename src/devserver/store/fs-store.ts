import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream, type WriteStream } from 'node:fs';
import { link, mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Error, noSuchBucket, noSuchKey } from '../s3-error.js';
import { bucketNameProblem } from './bucket-name.js';
import type { ObjectAttributes, ObjectMeta } from './object-meta.js';

/**
 * Filesystem storage. Layout under DATA_DIR:
 *
 *   <bucket>/<sha256 of key>.json          metadata sidecar, holds the key itself
 *   <bucket>/<sha256 of key>-<rand>.data   object bytes, never changed after it is written
 *   .devserver/buckets/<bucket>.json       creation date and bucket policy
 *   .devserver/tmp/                        uploads in progress
 *   .devserver/multipart/<upload id>/      parts of multipart uploads
 *
 * Hashing the key gives a safe, fixed-length file name for any key, including `..`, `/` or
 * unicode. A write lands in tmp/ first, is renamed to a fresh .data file, and the sidecar
 * that points at it is replaced by rename last, so a crash leaves either the old or the new
 * object, never half of one. A stray .data file left by a crash is removed on the next load.
 * NOTE: nothing is fsynced, so a power loss (not a process crash) can still lose recent writes.
 *
 * One process owns a data directory, so each bucket's metadata is cached in memory after
 * its first listing.
 */
export class FsStore {
  private readonly systemDir: string;
  private readonly tmpDir: string;
  private readonly bucketMetaDir: string;
  private readonly indexes = new Map<string, Map<string, ObjectMeta>>();
  private readonly keyLocks = new Map<string, Promise<unknown>>();

  constructor(readonly dataDir: string) {
    this.systemDir = join(dataDir, '.devserver');
    this.tmpDir = join(this.systemDir, 'tmp');
    this.bucketMetaDir = join(this.systemDir, 'buckets');
  }

  get multipartDir(): string {
    return join(this.systemDir, 'multipart');
  }

  /** Creates the layout and removes uploads that a previous process left unfinished. */
  async init(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.bucketMetaDir, { recursive: true });
    await mkdir(this.multipartDir, { recursive: true });
  }

  async listBuckets(): Promise<Array<{ name: string; created: Date }>> {
    const entries = await readdir(this.dataDir, { withFileTypes: true });
    const buckets = entries.filter((entry) => entry.isDirectory() && bucketNameProblem(entry.name) === undefined);
    const result = await Promise.all(
      buckets.map(async (entry) => ({ name: entry.name, created: await this.bucketCreated(entry.name) })),
    );
    return result.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async bucketExists(bucket: string): Promise<boolean> {
    if (bucketNameProblem(bucket) !== undefined) {
      return false;
    }
    try {
      return (await stat(join(this.dataDir, bucket))).isDirectory();
    } catch {
      return false;
    }
  }

  async requireBucket(bucket: string): Promise<void> {
    if (!(await this.bucketExists(bucket))) {
      throw noSuchBucket(bucket);
    }
  }

  async createBucket(bucket: string): Promise<void> {
    const problem = bucketNameProblem(bucket);
    if (problem !== undefined) {
      throw new S3Error(400, 'InvalidBucketName', `the bucket name "${bucket}" is invalid: it ${problem}`, `/${bucket}`);
    }
    try {
      await mkdir(join(this.dataDir, bucket));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new S3Error(409, 'BucketAlreadyOwnedByYou', `the bucket "${bucket}" already exists`, `/${bucket}`);
      }
      throw error;
    }
    await this.writeBucketMeta(bucket, { created: new Date().toISOString() });
    this.indexes.set(bucket, new Map());
  }

  async deleteBucket(bucket: string): Promise<void> {
    await this.requireBucket(bucket);
    const index = await this.loadIndex(bucket);
    if (index.size > 0) {
      throw new S3Error(409, 'BucketNotEmpty', `the bucket "${bucket}" is not empty; delete its objects first`, `/${bucket}`);
    }
    // Removes leftover .data files of a crash too; the index being empty means no object exists.
    await rm(join(this.dataDir, bucket), { recursive: true, force: true });
    await rm(this.bucketMetaPath(bucket), { force: true });
    this.indexes.delete(bucket);
  }

  async getBucketPolicy(bucket: string): Promise<string | undefined> {
    await this.requireBucket(bucket);
    return (await this.readBucketMeta(bucket)).policy;
  }

  async setBucketPolicy(bucket: string, policy: string | undefined): Promise<void> {
    await this.requireBucket(bucket);
    const meta = await this.readBucketMeta(bucket);
    await this.writeBucketMeta(bucket, { created: meta.created, ...(policy === undefined ? {} : { policy }) });
  }

  /** Every object of a bucket, sorted by key in UTF-8 byte order as S3 lists them. */
  async listObjects(bucket: string): Promise<ObjectMeta[]> {
    await this.requireBucket(bucket);
    const index = await this.loadIndex(bucket);
    return [...index.values()].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }

  async headObject(bucket: string, key: string): Promise<ObjectMeta> {
    await this.requireBucket(bucket);
    const meta = (await this.loadIndex(bucket)).get(key);
    if (meta === undefined) {
      throw noSuchKey(bucket, key);
    }
    return meta;
  }

  /** Opens the data of an object; `end` is inclusive, as in an HTTP Range. */
  openObject(bucket: string, meta: ObjectMeta, range?: { start: number; end: number }): ReadStream {
    return createReadStream(join(this.dataDir, bucket, meta.dataFile), range);
  }

  /** Creates a file in tmp/ for an upload in progress. Its path goes to commitObject or discardTemp. */
  createTempFile(): { path: string; stream: WriteStream } {
    const path = join(this.tmpDir, randomBytes(16).toString('hex'));
    return { path, stream: createWriteStream(path) };
  }

  async discardTemp(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  /** Makes a finished temp file the object `key`, replacing any previous version. */
  async commitObject(
    bucket: string,
    key: string,
    tempPath: string,
    fields: { size: number; etag: string } & ObjectAttributes,
  ): Promise<ObjectMeta> {
    await this.requireBucket(bucket);
    return this.withKeyLock(bucket, key, async () => {
      const dataFile = `${keyHash(key)}-${randomBytes(6).toString('hex')}.data`;
      await rename(tempPath, join(this.dataDir, bucket, dataFile));
      return this.publish(bucket, { key, ...fields, lastModified: new Date().toISOString(), dataFile });
    });
  }

  /** Copies an object by hard-linking its data file, which is never modified in place. */
  async copyObject(
    source: { bucket: string; key: string },
    target: { bucket: string; key: string },
    attributes: ObjectAttributes | undefined,
  ): Promise<ObjectMeta> {
    const sourceMeta = await this.headObject(source.bucket, source.key);
    await this.requireBucket(target.bucket);
    return this.withKeyLock(target.bucket, target.key, async () => {
      const dataFile = `${keyHash(target.key)}-${randomBytes(6).toString('hex')}.data`;
      await link(join(this.dataDir, source.bucket, sourceMeta.dataFile), join(this.dataDir, target.bucket, dataFile));
      return this.publish(target.bucket, {
        key: target.key,
        size: sourceMeta.size,
        etag: sourceMeta.etag,
        contentType: attributes?.contentType ?? sourceMeta.contentType,
        userMetadata: attributes?.userMetadata ?? sourceMeta.userMetadata,
        headers: attributes?.headers ?? sourceMeta.headers,
        lastModified: new Date().toISOString(),
        dataFile,
      });
    });
  }

  /** Deletes an object; deleting a missing key succeeds, as in S3. */
  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.requireBucket(bucket);
    await this.withKeyLock(bucket, key, async () => {
      const index = await this.loadIndex(bucket);
      const old = index.get(key);
      if (old === undefined) {
        return;
      }
      await rm(join(this.dataDir, bucket, `${keyHash(key)}.json`), { force: true });
      index.delete(key);
      await rm(join(this.dataDir, bucket, old.dataFile), { force: true });
    });
  }

  private async publish(bucket: string, meta: ObjectMeta): Promise<ObjectMeta> {
    const index = await this.loadIndex(bucket);
    const metaTemp = join(this.tmpDir, `${randomBytes(16).toString('hex')}.json`);
    await writeFile(metaTemp, JSON.stringify(meta));
    await rename(metaTemp, join(this.dataDir, bucket, `${keyHash(meta.key)}.json`));

    const old = index.get(meta.key);
    index.set(meta.key, meta);
    if (old !== undefined && old.dataFile !== meta.dataFile) {
      // A reader that already opened the old file keeps reading it; unlink only drops the name.
      await rm(join(this.dataDir, bucket, old.dataFile), { force: true });
    }
    return meta;
  }

  private async loadIndex(bucket: string): Promise<Map<string, ObjectMeta>> {
    const cached = this.indexes.get(bucket);
    if (cached !== undefined) {
      return cached;
    }

    const dir = join(this.dataDir, bucket);
    const names = await readdir(dir);
    const index = new Map<string, ObjectMeta>();
    for (const name of names.filter((file) => file.endsWith('.json'))) {
      const meta = JSON.parse(await readFile(join(dir, name), 'utf8')) as ObjectMeta;
      index.set(meta.key, meta);
    }
    const referenced = new Set([...index.values()].map((meta) => meta.dataFile));
    const strays = names.filter((file) => file.endsWith('.data') && !referenced.has(file));
    await Promise.all(strays.map((file) => unlink(join(dir, file)).catch(() => undefined)));

    // Another request may have loaded the index while this one was reading files.
    const raced = this.indexes.get(bucket);
    if (raced !== undefined) {
      return raced;
    }
    this.indexes.set(bucket, index);
    return index;
  }

  /** Runs writes to one key one after another, so the old data file to remove is known. */
  private async withKeyLock<T>(bucket: string, key: string, work: () => Promise<T>): Promise<T> {
    const lockKey = `${bucket}/${key}`;
    const previous = this.keyLocks.get(lockKey) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.catch(() => undefined);
    this.keyLocks.set(lockKey, settled);
    try {
      return await run;
    } finally {
      if (this.keyLocks.get(lockKey) === settled) {
        this.keyLocks.delete(lockKey);
      }
    }
  }

  private bucketMetaPath(bucket: string): string {
    return join(this.bucketMetaDir, `${bucket}.json`);
  }

  private async readBucketMeta(bucket: string): Promise<{ created: string; policy?: string }> {
    try {
      return JSON.parse(await readFile(this.bucketMetaPath(bucket), 'utf8')) as { created: string; policy?: string };
    } catch {
      return { created: (await stat(join(this.dataDir, bucket))).birthtime.toISOString() };
    }
  }

  private async writeBucketMeta(bucket: string, meta: { created: string; policy?: string }): Promise<void> {
    const temp = join(this.tmpDir, `${randomBytes(16).toString('hex')}.json`);
    await writeFile(temp, JSON.stringify(meta));
    await rename(temp, this.bucketMetaPath(bucket));
  }

  private async bucketCreated(bucket: string): Promise<Date> {
    return new Date((await this.readBucketMeta(bucket)).created);
  }
}

function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
