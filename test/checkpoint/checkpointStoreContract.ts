// The behaviour every CheckpointStore must have, written once and run against each store by its own test file.
import assert from 'node:assert/strict';
import { it } from 'node:test';

import type { Checkpoint, CheckpointStore } from '../../src/checkpoint/CheckpointStore.js';
import { CheckpointConflictError } from '../../src/errors.js';
import type { RunReport } from '../../src/telemetry/RunReport.js';

export interface StoreHarness {
  /** A store over storage that holds nothing yet. */
  emptyStore(): Promise<CheckpointStore>;
  /** A store whose stored value is `content`, as if written by hand or by another program. */
  storeHolding(content: string): Promise<CheckpointStore>;
  /** Two stores over the same storage: two instances, as two runs would have (one, when that is all there is). */
  twoStoresOnSameStorage(): Promise<[CheckpointStore, CheckpointStore]>;
  /** Builds a store for `name`, so that the name rule can be checked; a store may refuse the name as it is built. */
  storeNamed(name: string): Promise<CheckpointStore>;
}

export function checkpointAt(cursor: number, idsAtCursor: string[] = []): Checkpoint {
  return {
    version: 1,
    cursor,
    idsAtCursor,
    windowEnd: cursor + 60_000,
    updatedAt: new Date(cursor).toISOString(),
  };
}

/** Registers the contract's tests in the current describe(). */
export function checkpointStoreContract(harness: StoreHarness): void {
  it('loads nothing before the first save', async () => {
    const store = await harness.emptyStore();
    assert.equal(await store.load(), undefined);
  });

  it('saves the first checkpoint when no etag is expected and loads it back with the returned etag', async () => {
    const store = await harness.emptyStore();
    const etag = await store.save(checkpointAt(1_000, ['a', 'b']), undefined);
    assert.deepEqual(await store.load(), { checkpoint: checkpointAt(1_000, ['a', 'b']), etag });
  });

  it('advances when saved with the etag it last read, and returns a new etag', async () => {
    const store = await harness.emptyStore();
    const first = await store.save(checkpointAt(1_000), undefined);
    const second = await store.save(checkpointAt(2_000), first);
    assert.notEqual(second, first);
    assert.deepEqual(await store.load(), { checkpoint: checkpointAt(2_000), etag: second });
  });

  it('prepares before the first save: no etag, and nothing a load would take for a checkpoint', async () => {
    const store = await harness.emptyStore();
    assert.equal(await store.prepare(undefined), undefined);
    assert.equal(await store.load(), undefined);
    await store.save(checkpointAt(1_000), undefined);
  });

  it('prepares over a checkpoint: leaves it as it was and returns the etag the next save passes', async () => {
    const store = await harness.emptyStore();
    await store.save(checkpointAt(1_000, ['a']), undefined);
    const prepared = await store.prepare(await store.load());
    assert.deepEqual((await store.load())?.checkpoint, checkpointAt(1_000, ['a']));
    const next = await store.save(checkpointAt(2_000), prepared);
    assert.deepEqual(await store.load(), { checkpoint: checkpointAt(2_000), etag: next });
  });

  it('refuses to prepare when another writer saved since the load', async () => {
    const [mine, theirs] = await harness.twoStoresOnSameStorage();
    await mine.save(checkpointAt(1_000), undefined);
    const loaded = await mine.load();
    await theirs.save(checkpointAt(2_000), (await theirs.load())?.etag);
    await assert.rejects(mine.prepare(loaded), CheckpointConflictError);
    assert.deepEqual((await mine.load())?.checkpoint, checkpointAt(2_000));
  });

  it('rejects a save with a stale etag and keeps the stored checkpoint', async () => {
    const store = await harness.emptyStore();
    const stale = await store.save(checkpointAt(1_000), undefined);
    const current = await store.save(checkpointAt(2_000), stale);
    await assert.rejects(store.save(checkpointAt(3_000), stale), CheckpointConflictError);
    assert.deepEqual(await store.load(), { checkpoint: checkpointAt(2_000), etag: current });
  });

  it('rejects a first save when a checkpoint already exists, and keeps it', async () => {
    const store = await harness.emptyStore();
    const etag = await store.save(checkpointAt(1_000), undefined);
    await assert.rejects(store.save(checkpointAt(5_000), undefined), /another run/);
    assert.deepEqual(await store.load(), { checkpoint: checkpointAt(1_000), etag });
  });

  it('rejects a save with an etag when nothing is stored', async () => {
    const store = await harness.emptyStore();
    await assert.rejects(store.save(checkpointAt(1_000), '"no-such-version"'), CheckpointConflictError);
    assert.equal(await store.load(), undefined);
  });

  it('fails loudly, naming where it is, when the stored value is not a checkpoint', async () => {
    const store = await harness.storeHolding('{"version":1,"cursor":"yesterday","idsAtCursor":[]}');
    const error = await store.load().then(
      () => assert.fail('load() returned instead of failing'),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof Error);
    assert.ok(!(error instanceof CheckpointConflictError));
    assert.match(error.message, /is not a valid checkpoint/);
    assert.match(error.message, /cursor/);
    assert.ok(error.message.includes(store.describe()), `"${error.message}" should name ${store.describe()}`);
  });

  it('refuses to save a value that is not a checkpoint, and stores nothing', async () => {
    const store = await harness.emptyStore();
    const broken = { ...checkpointAt(1_000), cursor: -1 };
    await assert.rejects(store.save(broken, undefined), TypeError);
    assert.equal(await store.load(), undefined);
  });

  it('lets exactly one of two concurrent savers with the same etag win', async () => {
    const [one, two] = await harness.twoStoresOnSameStorage();
    const etag = await one.save(checkpointAt(1_000), undefined);
    await assertExactlyOneWins(one, [
      () => one.save(checkpointAt(2_000, ['from-one']), etag),
      () => two.save(checkpointAt(2_000, ['from-two']), etag),
    ]);
  });

  it('lets exactly one of two concurrent first saves win', async () => {
    const [one, two] = await harness.twoStoresOnSameStorage();
    await assertExactlyOneWins(one, [
      () => one.save(checkpointAt(1_000, ['from-one']), undefined),
      () => two.save(checkpointAt(1_000, ['from-two']), undefined),
    ]);
  });

  it('rejects names that are not safe as blob and file names', async () => {
    for (const name of ['', 'Activities', 'a/b', '../up', 'a.json', 'x'.repeat(64)]) {
      await assert.rejects(async () => harness.storeNamed(name), RangeError, `name ${JSON.stringify(name)}`);
    }
    assert.match((await harness.storeNamed('backfill-2024-01-01')).describe(), /backfill-2024-01-01/);
  });

  it('keeps the last run report beside the checkpoint without changing the checkpoint or its etag', async () => {
    const [writer, reader] = await harness.twoStoresOnSameStorage();
    assert.equal(await reader.loadReport(), undefined);
    const etag = await writer.save(checkpointAt(5_000), undefined);
    const report = sampleReport('failed');
    await writer.saveReport(report);
    assert.deepEqual(await reader.loadReport(), report);
    assert.deepEqual(await reader.load(), { checkpoint: checkpointAt(5_000), etag });
    await writer.saveReport(sampleReport('succeeded'));
    assert.equal((await reader.loadReport())?.outcome, 'succeeded');
    // The run that holds the etag can still advance the checkpoint.
    await writer.save(checkpointAt(6_000), etag);
  });
}

function sampleReport(outcome: 'succeeded' | 'failed'): RunReport {
  return {
    stream: 'activities',
    outcome,
    startedAt: '2026-11-23T12:00:00.000Z',
    durationMs: 1_234,
    fetched: 10,
    sent: 10,
    flagged: 0,
    batches: 1,
    pages: 1,
    retries: 2,
    throttled: 1,
    throttleWaitMs: 500,
    lagMinutes: 7.5,
    moreToDo: false,
    checkpoint: '2026-11-23T11:58:00.000Z',
    ...(outcome === 'failed' ? { error: 'HttpStatusError: Log Analytics answered 403' } : {}),
  };
}

async function assertExactlyOneWins(reader: CheckpointStore, saves: (() => Promise<string>)[]): Promise<void> {
  const results = await Promise.allSettled(saves.map((save) => save()));
  const winners = results.flatMap((r, index) => (r.status === 'fulfilled' ? [{ index, etag: r.value }] : []));
  const losers = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  assert.equal(winners.length, 1, `expected one winner, got ${winners.length}`);
  assert.equal(losers.length, 1);
  assert.ok(losers[0] instanceof CheckpointConflictError, `the loser failed with ${String(losers[0])}`);
  const stored = await reader.load();
  const winner = winners[0];
  assert.ok(stored !== undefined && winner !== undefined);
  assert.equal(stored.etag, winner.etag);
  assert.deepEqual(stored.checkpoint.idsAtCursor, [winner.index === 0 ? 'from-one' : 'from-two']);
}
