import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { CheckpointStore, StoredCheckpoint } from '../../src/checkpoint/CheckpointStore.js';
import { RetryingCheckpointStore } from '../../src/checkpoint/RetryingCheckpointStore.js';
import { ServiceUnreachableError } from '../../src/errors.js';
import { RecordingLogger } from '../../src/logger.js';
import type { ServiceTarget } from '../../src/unreachable.js';

const STORED: StoredCheckpoint = {
  etag: '"1"',
  checkpoint: { version: 1, cursor: 5, idsAtCursor: [], windowEnd: 5, updatedAt: '2026-01-01T00:00:00.000Z' },
};

/** A store whose load() fails with each of `failures` in turn, then answers. */
function flakyStore(failures: Error[]): CheckpointStore & { loads: number } {
  const store = {
    loads: 0,
    load: () => {
      const failure = failures[store.loads++];
      return failure ? Promise.reject(failure) : Promise.resolve(STORED);
    },
    save: () => Promise.resolve('"2"'),
    prepare: () => Promise.resolve('"1"'),
    describe: () => 'blob devstoreaccount1/c/activities.json',
    loadReport: () => Promise.resolve(undefined),
    saveReport: () => Promise.resolve(),
  };
  return store;
}

/** Errors shaped as BlobCheckpointStore throws them: its own message, with the code and status kept. */
function storageError(code: string | undefined, statusCode?: number): Error {
  return Object.assign(new Error(`Could not read checkpoint (${code ?? statusCode})`), { code, statusCode });
}

function target(url: string): ServiceTarget {
  return { service: 'the checkpoint storage', url, setting: 'AzureWebJobsStorage', check: 'Start Azurite.' };
}

function wrap(inner: CheckpointStore, url: string) {
  const log = new RecordingLogger();
  const slept: number[] = [];
  const store = new RetryingCheckpointStore(inner, {
    target: target(url),
    log,
    clock: { nowMs: () => 0 },
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
  });
  return { store, log, slept };
}

describe('RetryingCheckpointStore', () => {
  it('retries resets and 503s, logging each retry like the other services', async () => {
    const inner = flakyStore([storageError('ECONNRESET'), storageError(undefined, 503)]);
    const { store, log, slept } = wrap(inner, 'https://acct.blob.core.windows.net');
    assert.deepEqual(await store.load(), STORED);
    assert.equal(inner.loads, 3);
    assert.equal(slept.length, 2);
    const warnings = log.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    assert.equal(warnings.length, 2);
    assert.match(
      warnings[0] ?? '',
      /^Checkpoint storage read: attempt 1 of 4 failed \(ECONNRESET\); retrying in \d+ ms\.$/,
    );
  });

  it('fails at once, with the setting and what to check, when Azurite on this machine refuses the connection', async () => {
    const inner = flakyStore([storageError('ECONNREFUSED'), storageError('ECONNREFUSED')]);
    const { store, log } = wrap(inner, 'http://127.0.0.1:10000/devstoreaccount1');
    await assert.rejects(store.load(), (error: unknown) => {
      assert.ok(error instanceof ServiceUnreachableError);
      assert.match(
        error.message,
        /^Could not reach the checkpoint storage at http:\/\/127\.0\.0\.1:10000\/devstoreaccount1 \(AzureWebJobsStorage\): the connection was refused.*Start Azurite\.$/,
      );
      return true;
    });
    assert.equal(inner.loads, 1);
    assert.equal(log.lines.length, 0);
  });

  it('retries a refused connection to a remote account, and passes permanent statuses on unchanged', async () => {
    const refused = flakyStore([storageError('ECONNREFUSED')]);
    assert.deepEqual(await wrap(refused, 'https://acct.blob.core.windows.net').store.load(), STORED);
    const forbidden = storageError(undefined, 403);
    const { store } = wrap(flakyStore([forbidden]), 'https://acct.blob.core.windows.net');
    await assert.rejects(store.load(), (error) => error === forbidden);
  });
});
