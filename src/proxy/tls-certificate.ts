import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { errnoCode, TenantsError } from '../errors.js';
import type { Logger } from '../log/logger.js';

/** Paths of the PEM files that make the proxy serve HTTPS. */
export interface ProxyTlsFiles {
  /** The certificate, followed by its intermediate certificates. */
  certFile: string;
  /** The private key of the certificate, unencrypted. */
  keyFile: string;
}

/** A certificate and key that Node accepted, with what the logs may show of them. */
export interface LoadedCertificate {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint of the first certificate, as `AB:CD:…`. */
  fingerprint256: string;
  validTo: string;
}

/**
 * Reads the certificate and key and checks that Node can build a TLS context from them,
 * which fails on unreadable PEM and on a key that does not belong to the certificate.
 * Rejects with a TenantsError that names both files; the message never contains key bytes.
 */
export async function loadCertificate(files: ProxyTlsFiles): Promise<LoadedCertificate> {
  let cert: Buffer;
  let key: Buffer;
  try {
    [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
  } catch (error) {
    throw tlsError(files, `cannot read the files (${errnoCode(error) ?? (error as Error).message})`, error);
  }

  try {
    createSecureContext({ cert, key });
    const certificate = new X509Certificate(cert);
    return { cert, key, fingerprint256: certificate.fingerprint256, validTo: certificate.validTo };
  } catch (error) {
    // OpenSSL reasons such as "key values mismatch" or "no start line" quote no key material.
    throw tlsError(files, (error as Error).message, error);
  }
}

function tlsError(files: ProxyTlsFiles, reason: string, cause: unknown): TenantsError {
  return new TenantsError(
    'PROXY_TLS_INVALID',
    `invalid TLS certificate ${files.certFile} or key ${files.keyFile}: ${reason}; expected PEM files of a certificate and its unencrypted private key`,
    { cause },
  );
}

export interface CertificateWatcherOptions {
  files: ProxyTlsFiles;
  logger: Logger;
  /** Installs a certificate that loaded, such as `server.setSecureContext`. */
  apply: (certificate: LoadedCertificate) => void;
  debounceMs: number;
  pollIntervalMs: number;
}

/**
 * Reloads the certificate when either file changes. The directories are watched,
 * because tools such as certbot replace files by rename, and a stat poll catches
 * changes that fs.watch misses. A pair that does not load is logged and the previous
 * certificate stays in use, which also covers the moment between replacing the
 * certificate and replacing the key.
 */
export class CertificateWatcher {
  private readonly watchers: FSWatcher[] = [];
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private signature: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: CertificateWatcherOptions) {}

  /** Starts watching; `initialSignature` avoids a reload of the files loaded at start. */
  async start(): Promise<void> {
    this.signature = await this.statSignature();
    const { certFile, keyFile } = this.options.files;
    const names = new Set([basename(certFile), basename(keyFile)]);
    for (const directory of new Set([dirname(certFile), dirname(keyFile)])) {
      this.watchDirectory(directory, names);
    }
    this.pollTimer = setInterval(() => void this.pollOnce(), this.options.pollIntervalMs);
    this.pollTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    for (const watcher of this.watchers) {
      watcher.close();
    }
    clearInterval(this.pollTimer);
    clearTimeout(this.debounceTimer);
  }

  /** Loads the files now, queued behind a load in progress. Never rejects: failures are logged. */
  reload(): Promise<void> {
    this.queue = this.queue.then(() => this.loadOnce());
    return this.queue;
  }

  private async loadOnce(): Promise<void> {
    const { files, logger } = this.options;
    this.signature = await this.statSignature();
    try {
      const certificate = await loadCertificate(files);
      this.options.apply(certificate);
      logger.info({ certFile: files.certFile, fingerprint256: certificate.fingerprint256, validTo: certificate.validTo }, 'tls certificate loaded');
    } catch (error) {
      logger.error(
        { certFile: files.certFile, keyFile: files.keyFile, reason: (error as Error).message },
        'tls certificate rejected, keeping the previous one',
      );
    }
  }

  private watchDirectory(directory: string, names: Set<string>): void {
    const { logger } = this.options;
    try {
      const watcher = watch(directory, { persistent: false }, (_event, changed) => {
        if (changed === null || names.has(changed)) {
          this.scheduleReload();
        }
      });
      watcher.on('error', (error) => {
        logger.warn({ directory, err: error }, 'watching the tls files failed, polling only');
        watcher.close();
      });
      this.watchers.push(watcher);
    } catch (error) {
      logger.warn({ directory, err: error }, 'cannot watch the tls files, polling only');
    }
  }

  private async pollOnce(): Promise<void> {
    const signature = await this.statSignature();
    if (signature !== this.signature && !this.stopped) {
      clearTimeout(this.debounceTimer);
      void this.reload();
    }
  }

  /** Coalesces the events of one replacement (often two files, each by rename) into one load. */
  private scheduleReload(): void {
    if (this.stopped) {
      return;
    }
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.reload(), this.options.debounceMs);
    this.debounceTimer.unref();
  }

  /** Inode, size and mtime of both files as one string; a stat failure becomes its error code. */
  private async statSignature(): Promise<string> {
    const { certFile, keyFile } = this.options.files;
    const parts = await Promise.all(
      [certFile, keyFile].map(async (file) => {
        try {
          const info = await stat(file);
          return `${info.ino}:${info.size}:${info.mtimeMs}`;
        } catch (error) {
          return errnoCode(error) ?? 'stat failed';
        }
      }),
    );
    return parts.join('|');
  }
}
