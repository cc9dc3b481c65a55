// MemoryCheckpointStore: the shared store contract, plus its history and seeding.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MemoryCheckpointStore } from '../../src/checkpoint/MemoryCheckpointStore.js';
import { CheckpointConflictError } from '../../src/errors.js';
import { checkpointAt, checkpointStoreContract } from './checkpointStoreContract.js';

describe('MemoryCheckpointStore', () => {
  checkpointStoreContract({
    emptyStore: () => Promise.resolve(new MemoryCheckpointStore('activities')),
    storeHolding: (content) => Promise.resolve(new MemoryCheckpointStore('activities', JSON.parse(content))),
    twoStoresOnSameStorage: () => {
      const store = new MemoryCheckpointStore('activities');
      return Promise.resolve([store, store]);
    },
    storeNamed: (name) => Promise.resolve(new MemoryCheckpointStore(name)),
  });

  it('records every saved checkpoint in order, and none that were rejected', async () => {
    const store = new MemoryCheckpointStore('activities');
    const first = await store.save(checkpointAt(1_000), undefined);
    await store.save(checkpointAt(2_000), first);
    await assert.rejects(store.save(checkpointAt(9_000), first), CheckpointConflictError);
    assert.deepEqual(
      store.history.map((c) => c.cursor),
      [1_000, 2_000],
    );
  });

  it('is not changed when the caller later mutates the object it saved', async () => {
    const store = new MemoryCheckpointStore('activities');
    const checkpoint = checkpointAt(1_000, ['a']);
    await store.save(checkpoint, undefined);
    checkpoint.idsAtCursor.push('b');
    checkpoint.cursor = 5_000;
    assert.deepEqual((await store.load())?.checkpoint, checkpointAt(1_000, ['a']));
    assert.deepEqual(store.history, [checkpointAt(1_000, ['a'])]);
  });

  it('starts from a seeded checkpoint, which a first save (no etag) may not overwrite', async () => {
    const store = new MemoryCheckpointStore('backfill-1', checkpointAt(7_000));
    const loaded = await store.load();
    assert.deepEqual(loaded?.checkpoint, checkpointAt(7_000));
    await assert.rejects(store.save(checkpointAt(8_000), undefined), CheckpointConflictError);
    await store.save(checkpointAt(8_000), loaded.etag);
    assert.deepEqual(store.history, [checkpointAt(8_000)]);
  });
});
