// A CheckpointStore in Azure Blob Storage (the function's own account; Azurite locally): one JSON blob per stream,
// written with ETag conditions so two overlapping runs cannot both advance it.
import type { TokenCredential } from '@azure/identity';
import {
  BlobServiceClient,
  type BlockBlobClient,
  type ContainerClient,
  isRestError,
  type StoragePipelineOptions,
} from '@azure/storage-blob';

import { errorCode } from '../errors.js';
import { Secret } from '../Secret.js';
import { parseRunReport, type RunReport } from '../telemetry/RunReport.js';
import type { Checkpoint, CheckpointStore, StoredCheckpoint } from './CheckpointStore.js';
import {
  checkCheckpointName,
  checkpointConflict,
  parseStoredCheckpoint,
  serializeCheckpoint,
} from './checkpointRules.js';

const MAX_DETAIL_CHARS = 200;

/**
 * Keeps the checkpoint of stream `name` in the blob `<name>.json` of a container, created if a save finds none.
 * Errors it throws name the account, container and blob, and never carry a key, a SAS token or a URL query:
 * SDK errors are rebuilt from their status and code rather than passed on as `cause`.
 */
export class BlobCheckpointStore implements CheckpointStore {
  readonly #container: ContainerClient;
  readonly #blob: BlockBlobClient;
  readonly #reportBlob: BlockBlobClient;
  readonly #probeBlob: BlockBlobClient;
  readonly #where: string;

  constructor(containerClient: ContainerClient, name: string) {
    const blobName = `${checkCheckpointName(name)}.json`;
    this.#container = containerClient;
    this.#blob = containerClient.getBlockBlobClient(blobName);
    this.#reportBlob = containerClient.getBlockBlobClient(`${name}.last-run.json`);
    this.#probeBlob = containerClient.getBlockBlobClient(`${name}.write-check`);
    // accountName and containerName are parsed from the URL; the URL itself may hold a SAS token, so it is not shown.
    this.#where = `blob ${containerClient.accountName}/${containerClient.containerName}/${blobName}`;
  }

  /**
   * From a connection string (an account key, a SAS, or `UseDevelopmentStorage=true` for Azurite on its default port).
   * A string that cannot be parsed gives an error that does not repeat it.
   */
  static fromConnectionString(
    connectionString: string | Secret,
    container: string,
    name: string,
    options?: StoragePipelineOptions,
  ): BlobCheckpointStore {
    const value = connectionString instanceof Secret ? connectionString.reveal() : connectionString;
    let service: BlobServiceClient;
    try {
      service = BlobServiceClient.fromConnectionString(value, options);
    } catch {
      throw new Error(
        'The storage connection string could not be used (expected AccountName=…;AccountKey=… with endpoints, ' +
          'a SAS connection string, or UseDevelopmentStorage=true). Its value is not shown.',
      );
    }
    return new BlobCheckpointStore(service.getContainerClient(container), name);
  }

  /** From a blob service URL (`https://<account>.blob.core.windows.net`) and an Entra credential (managed identity). */
  static fromServiceUrl(
    serviceUrl: string,
    credential: TokenCredential,
    container: string,
    name: string,
    options?: StoragePipelineOptions,
  ): BlobCheckpointStore {
    const service = new BlobServiceClient(serviceUrl, credential, options);
    return new BlobCheckpointStore(service.getContainerClient(container), name);
  }

  async load(): Promise<StoredCheckpoint | undefined> {
    let text: string;
    let etag: string | undefined;
    try {
      const response = await this.#blob.download();
      etag = response.etag;
      text = (await readAll(response.readableStreamBody)).toString('utf8');
    } catch (error) {
      // 404 is BlobNotFound or ContainerNotFound: nothing saved yet either way.
      if (isRestError(error) && error.statusCode === 404) return undefined;
      throw storageFailure(this.#where, 'read', error);
    }
    if (etag === undefined) throw new Error(`Storage returned checkpoint ${this.#where} without an ETag.`);
    return { checkpoint: parseStoredCheckpoint(this.#where, text), etag };
  }

  async save(checkpoint: Checkpoint, expectedEtag: string | undefined): Promise<string> {
    const conditions = expectedEtag === undefined ? { ifNoneMatch: '*' } : { ifMatch: expectedEtag };
    const etag = await this.#write(this.#blob, serializeCheckpoint(checkpoint), conditions, (error) =>
      this.#saveFailure(error, expectedEtag),
    );
    if (etag === undefined) throw new Error(`Storage saved checkpoint ${this.#where} without returning an ETag.`);
    return etag;
  }

  /**
   * Writes the checkpoint back unchanged under its ETag (or, before the first save, a probe blob `<name>.write-check`),
   * so a read-only SAS, a missing role or a conflicting writer fails the run before it posts anything.
   */
  async prepare(stored: StoredCheckpoint | undefined): Promise<string | undefined> {
    if (stored === undefined) {
      await this.#write(this.#probeBlob, `${JSON.stringify({ checkedAt: new Date().toISOString() })}\n`, {}, (error) =>
        storageFailure(this.#where, 'write beside', error),
      );
      return undefined;
    }
    return this.save(stored.checkpoint, stored.etag);
  }

  describe(): string {
    return this.#where;
  }

  async loadReport(): Promise<RunReport | undefined> {
    try {
      const response = await this.#reportBlob.download();
      return parseRunReport((await readAll(response.readableStreamBody)).toString('utf8'));
    } catch (error) {
      if (isRestError(error) && error.statusCode === 404) return undefined;
      throw storageFailure(this.#where, 'read the last-run report of', error);
    }
  }

  async saveReport(report: RunReport): Promise<void> {
    await this.#write(this.#reportBlob, `${JSON.stringify(report, null, 2)}\n`, {}, (error) =>
      storageFailure(this.#where, 'write the last-run report of', error),
    );
  }

  /**
   * Uploads `body` under `conditions`; when the container is missing, creates it once and tries again. Any other
   * failure is turned into an operator-facing error by `failure`. Returns the new ETag.
   */
  async #write(
    blob: BlockBlobClient,
    body: string,
    conditions: { ifMatch?: string; ifNoneMatch?: string },
    failure: (error: unknown) => Error,
  ): Promise<string | undefined> {
    const upload = async () =>
      (
        await blob.upload(body, Buffer.byteLength(body), {
          conditions,
          blobHTTPHeaders: { blobContentType: 'application/json' },
        })
      ).etag;
    try {
      return await upload();
    } catch (error) {
      if (!(isRestError(error) && error.code === 'ContainerNotFound')) throw failure(error);
    }
    await this.#createContainer();
    try {
      return await upload();
    } catch (error) {
      throw failure(error);
    }
  }

  #saveFailure(error: unknown, expectedEtag: string | undefined): Error {
    if (isConflict(error, expectedEtag)) return checkpointConflict(this.#where, expectedEtag);
    return storageFailure(this.#where, 'write', error);
  }

  /**
   * Only when a write found no container, so an identity or SAS that may write blobs but not create containers works
   * wherever the container already exists. createIfNotExists treats "created by someone else meanwhile" as success.
   */
  async #createContainer(): Promise<void> {
    try {
      await this.#container.createIfNotExists();
    } catch (error) {
      throw storageFailure(this.#where, 'create the container of', error);
    }
  }
}

/**
 * The condition failed: 412 when If-Match no longer matches, 409 BlobAlreadyExists when If-None-Match: * finds a blob,
 * and 404 when the blob this run read has been deleted since.
 */
function isConflict(error: unknown, expectedEtag: string | undefined): boolean {
  if (!isRestError(error)) return false;
  if (error.statusCode === 412) return true;
  if (error.statusCode === 409) return error.code === 'BlobAlreadyExists';
  return error.statusCode === 404 && error.code === 'BlobNotFound' && expectedEtag !== undefined;
}

async function readAll(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  if (stream === undefined) throw new Error('no response body');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** An error built only from the status, the error code and the first line of the message, with secrets scrubbed. */
function storageFailure(where: string, action: string, error: unknown): Error {
  const rest = isRestError(error) ? error : undefined;
  const status = rest?.statusCode === undefined ? 'no response' : `status ${rest.statusCode}`;
  const code = rest?.code ?? errorCode(error);
  const firstLine = error instanceof Error ? (error.message.split('\n')[0] ?? '') : '';
  const message = scrub(firstLine).replace(/\.$/, '');
  const detail = [status, code, message].filter(Boolean).join(', ');
  const hint =
    rest?.statusCode === 403
      ? ' Check the account key or SAS, or that the identity has Storage Blob Data Contributor on the account.'
      : '';
  // The code and status (never the SDK error itself, which may quote a URL with a SAS) let callers decide on a retry.
  return Object.assign(new Error(`Could not ${action} checkpoint ${where} (${detail}).${hint}`), {
    code,
    statusCode: rest?.statusCode,
  });
}

/** Drops URL queries and fragments (SAS tokens) and any key=value that carries a secret. */
function scrub(text: string): string {
  return text
    .replace(/(https?:\/\/[^\s?#'"]*)[?#][^\s'"]*/gi, '$1')
    .replace(/\b(AccountKey|SharedAccessSignature|sig|signature)=[^;&\s'"]*/gi, '$1=[redacted]')
    .slice(0, MAX_DETAIL_CHARS);
}
