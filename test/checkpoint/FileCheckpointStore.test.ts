// FileCheckpointStore: the shared store contract in a temp directory, plus atomic writes, hand edits and the lock file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { FileCheckpointStore } from '../../src/checkpoint/FileCheckpointStore.js';
import { CheckpointConflictError } from '../../src/errors.js';
import { checkpointAt, checkpointStoreContract } from './checkpointStoreContract.js';

describe('FileCheckpointStore', () => {
  let root = '';
  let directories = 0;
  /** A fresh, not yet existing directory for each store. */
  const freshDirectory = (): string => join(root, `case-${++directories}`, 'checkpoints');

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'file-checkpoint-store-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  checkpointStoreContract({
    emptyStore: () => Promise.resolve(new FileCheckpointStore(freshDirectory(), 'activities')),
    storeHolding: async (content) => {
      const store = new FileCheckpointStore(freshDirectory(), 'activities');
      await writeFileMakingDirectory(store.filePath, content);
      return store;
    },
    twoStoresOnSameStorage: () => {
      const directory = freshDirectory();
      return Promise.resolve([
        new FileCheckpointStore(directory, 'activities'),
        new FileCheckpointStore(directory, 'activities'),
      ]);
    },
    storeNamed: (name) => Promise.resolve(new FileCheckpointStore(freshDirectory(), name)),
  });

  it('writes <directory>/<name>.json as JSON, creating the directory, and leaves no temp or lock file', async () => {
    const directory = freshDirectory();
    const store = new FileCheckpointStore(directory, 'alerts');
    const etag = await store.save(checkpointAt(1_000), undefined);
    await store.save(checkpointAt(2_000), etag);
    assert.deepEqual(await readdir(directory), ['alerts.json']);
    assert.deepEqual(JSON.parse(await readFile(join(directory, 'alerts.json'), 'utf8')), checkpointAt(2_000));
  });

  it('notices a hand edit of the file: a save with the etag read before it conflicts', async () => {
    const store = new FileCheckpointStore(freshDirectory(), 'activities');
    const etag = await store.save(checkpointAt(1_000), undefined);
    await writeFile(store.filePath, JSON.stringify(checkpointAt(1_500)));
    await assert.rejects(store.save(checkpointAt(2_000), etag), CheckpointConflictError);
    assert.deepEqual((await store.load())?.checkpoint, checkpointAt(1_500));
  });

  it('fails loudly, naming the file, when it is not JSON', async () => {
    const store = new FileCheckpointStore(freshDirectory(), 'activities');
    await writeFileMakingDirectory(store.filePath, '{"version":1,');
    await assert.rejects(store.load(), (error: Error) => {
      assert.match(error.message, /is not a valid checkpoint \(it is not JSON\)/);
      assert.ok(error.message.includes(store.filePath));
      return true;
    });
  });

  it('refuses to write while another process holds a fresh lock, and leaves that lock alone', async () => {
    const store = new FileCheckpointStore(freshDirectory(), 'activities');
    const etag = await store.save(checkpointAt(1_000), undefined);
    await writeFile(`${store.filePath}.lock`, '4242\n');
    await assert.rejects(store.save(checkpointAt(2_000), etag), /being written by another process/);
    assert.equal(await readFile(`${store.filePath}.lock`, 'utf8'), '4242\n');
    assert.deepEqual((await store.load())?.checkpoint, checkpointAt(1_000));
  });

  it('takes over at once a lock of a process on this host that is gone', async () => {
    const store = new FileCheckpointStore(freshDirectory(), 'activities');
    const etag = await store.save(checkpointAt(1_000), undefined);
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(`${store.filePath}.lock`, `${gone}\n${hostname()}\n`);
    const next = await store.save(checkpointAt(2_000), etag);
    assert.deepEqual(await store.load(), { checkpoint: checkpointAt(2_000), etag: next });
  });

  it('refuses a lock of a process on this host that still runs', async () => {
    const store = new FileCheckpointStore(freshDirectory(), 'activities');
    const etag = await store.save(checkpointAt(1_000), undefined);
    await writeFile(`${store.filePath}.lock`, `${process.pid}\n${hostname()}\n`);
    await assert.rejects(store.save(checkpointAt(2_000), etag), CheckpointConflictError);
    await assert.rejects(store.prepare(await store.load()), CheckpointConflictError);
  });

  it('takes over a lock with no owner written in it (a full disk) after a few seconds, not before', async () => {
    const directory = freshDirectory();
    const store = new FileCheckpointStore(directory, 'activities');
    const etag = await store.save(checkpointAt(1_000), undefined);
    await writeFile(`${store.filePath}.lock`, '');
    const lockWrittenMs = (await stat(`${store.filePath}.lock`)).mtimeMs;
    const soon = new FileCheckpointStore(directory, 'activities', { clock: { nowMs: () => lockWrittenMs + 1_000 } });
    await assert.rejects(soon.save(checkpointAt(2_000), etag), CheckpointConflictError);
    const later = new FileCheckpointStore(directory, 'activities', { clock: { nowMs: () => lockWrittenMs + 6_000 } });
    await later.save(checkpointAt(2_000), etag);
    assert.deepEqual(await readdir(directory), ['activities.json']);
  });

  it('prepares over a checkpoint by writing it back: same bytes, same etag, no probe or lock left', async () => {
    const directory = freshDirectory();
    const store = new FileCheckpointStore(directory, 'activities');
    const etag = await store.save(checkpointAt(1_000), undefined);
    assert.equal(await store.prepare(await store.load()), etag);
    const fresh = new FileCheckpointStore(freshDirectory(), 'activities');
    assert.equal(await fresh.prepare(undefined), undefined);
    assert.deepEqual(await readdir(directory), ['activities.json']);
  });

  it('takes over a lock older than staleLockMs, left by a process that died mid-save', async () => {
    const directory = freshDirectory();
    const first = new FileCheckpointStore(directory, 'activities');
    const etag = await first.save(checkpointAt(1_000), undefined);
    await writeFile(`${first.filePath}.lock`, '4242\n');
    const lockWrittenMs = (await stat(`${first.filePath}.lock`)).mtimeMs;
    const later = new FileCheckpointStore(directory, 'activities', {
      staleLockMs: 60_000,
      clock: { nowMs: () => lockWrittenMs + 60_001 },
    });
    const next = await later.save(checkpointAt(2_000), etag);
    assert.deepEqual(await later.load(), { checkpoint: checkpointAt(2_000), etag: next });
    assert.deepEqual(await readdir(directory), ['activities.json']);
  });
});

async function writeFileMakingDirectory(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}
