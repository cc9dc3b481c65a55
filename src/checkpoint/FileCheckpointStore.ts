// A CheckpointStore in a local file, for runs outside Azure. The etag is the sha256 of the file's bytes, so writes are
// conditional exactly as with the blob store. Not for shared or network file systems (see the lock notes below).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { type Clock, systemClock } from '../clock.js';
import { CheckpointConflictError, errorCode } from '../errors.js';
import { parseRunReport, type RunReport } from '../telemetry/RunReport.js';
import type { Checkpoint, CheckpointStore, StoredCheckpoint } from './CheckpointStore.js';
import {
  checkCheckpointName,
  checkpointConflict,
  parseStoredCheckpoint,
  serializeCheckpoint,
} from './checkpointRules.js';

/** A save takes milliseconds; a lock file this old was left by a process that died mid-save. */
const DEFAULT_STALE_LOCK_MS = 2 * 60 * 1000;

export interface FileCheckpointStoreOptions {
  /** Age after which another writer's lock file is taken over (default 2 minutes). */
  staleLockMs?: number;
  clock?: Clock;
}

/**
 * Keeps the checkpoint of stream `name` in `<directory>/<name>.json` (the directory is created on first save).
 *
 * save() holds `<name>.json.lock` (created with O_EXCL) around read-compare-write, and the write itself is a temp file
 * in the same directory, fsynced, then renamed over the old one, so a reader sees the old or the new file, never half
 * of one. Limits: a writer that sees the lock fails at once with CheckpointConflictError instead of waiting; a lock
 * older than `staleLockMs` is taken over, so a writer paused longer than that could overlap with another one; and
 * O_EXCL and rename are only as atomic as the file system (fine on local disks, not promised on network shares).
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly filePath: string;
  readonly #directory: string;
  readonly #lockPath: string;
  readonly #staleLockMs: number;
  readonly #clock: Clock;

  constructor(directory: string, name: string, options: FileCheckpointStoreOptions = {}) {
    this.#directory = directory;
    this.filePath = join(directory, `${checkCheckpointName(name)}.json`);
    this.#lockPath = `${this.filePath}.lock`;
    this.#staleLockMs = options.staleLockMs ?? DEFAULT_STALE_LOCK_MS;
    this.#clock = options.clock ?? systemClock;
  }

  async load(): Promise<StoredCheckpoint | undefined> {
    const bytes = await readIfExists(this.filePath);
    if (bytes === undefined) return undefined;
    return { checkpoint: parseStoredCheckpoint(this.describe(), bytes.toString('utf8')), etag: etagOf(bytes) };
  }

  async save(checkpoint: Checkpoint, expectedEtag: string | undefined): Promise<string> {
    const body = Buffer.from(serializeCheckpoint(checkpoint), 'utf8');
    await mkdir(this.#directory, { recursive: true });
    await this.#acquireLock();
    try {
      const current = await readIfExists(this.filePath);
      if ((current && etagOf(current)) !== expectedEtag) throw checkpointConflict(this.describe(), expectedEtag);
      await writeAtomically(this.filePath, body);
      return etagOf(body);
    } finally {
      await rm(this.#lockPath, { force: true });
    }
  }

  describe(): string {
    return `file ${this.filePath}`;
  }

  async loadReport(): Promise<RunReport | undefined> {
    const bytes = await readIfExists(this.#reportPath);
    return bytes === undefined ? undefined : parseRunReport(bytes.toString('utf8'));
  }

  async saveReport(report: RunReport): Promise<void> {
    await mkdir(this.#directory, { recursive: true });
    await writeAtomically(this.#reportPath, Buffer.from(`${JSON.stringify(report, null, 2)}\n`, 'utf8'));
  }

  get #reportPath(): string {
    return this.filePath.replace(/\.json$/, '.last-run.json');
  }

  async #acquireLock(): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const handle = await open(this.#lockPath, 'wx');
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        return;
      } catch (error) {
        if (!hasCode(error, 'EEXIST')) throw error;
      }
      if (attempt > 1 || !(await this.#isLockStale())) {
        throw new CheckpointConflictError(
          `Checkpoint ${this.describe()} is being written by another process (lock ${this.#lockPath}). ` +
            'This run stops without writing.',
        );
      }
      await rm(this.#lockPath, { force: true });
    }
  }

  async #isLockStale(): Promise<boolean> {
    try {
      const { mtimeMs } = await stat(this.#lockPath);
      return this.#clock.nowMs() - mtimeMs > this.#staleLockMs;
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return true;
      throw error;
    }
  }
}

function etagOf(bytes: Buffer): string {
  return `"sha256:${createHash('sha256').update(bytes).digest('hex')}"`;
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** Temp file in the same directory (rename is atomic within one file system), fsync, rename, fsync the directory. */
async function writeAtomically(path: string, body: Buffer): Promise<void> {
  const tempPath = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(tempPath, 'wx');
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tempPath, path);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Makes the rename itself durable. Windows cannot open a directory for this; there the rename is left to the OS. */
async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    return;
  } finally {
    await handle?.close();
  }
}

function hasCode(error: unknown, code: string): boolean {
  return errorCode(error) === code;
}
