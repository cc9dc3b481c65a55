// Activities laid out for the end-to-end run tests (hourly counts, ties), and what those tests read back from the
// loopback stack: scan sub-window ends, checkpoint saves beside what Log Analytics had accepted.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

import { generateActivities, type RawActivity } from '../../emulators/activityGenerator.js';
import { type LocalStack, startLocalStack } from '../../emulators/localStack.js';
import type { CheckpointStore } from '../../src/checkpoint/CheckpointStore.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/MemoryCheckpointStore.js';
import { receivedIds } from './pipeline.js';

export const HOUR = 3600_000;

export function dataset(count: number, seed: number): RawActivity[] {
  // Saved over the last few hours, with many ties and one tie group larger than a page.
  return generateActivities({
    count,
    startCreatedMs: Date.now() - 6 * HOUR,
    seed,
    tiesEvery: 6,
    maxTie: 150,
    spanMs: 5 * HOUR,
  });
}

/** `counts[h]` activities created in hour h after `startMs`, ascending, in threes sharing a millisecond. */
export function hourly(counts: readonly number[], startMs: number, seed: number): RawActivity[] {
  const activities = generateActivities({
    count: counts.reduce((sum, count) => sum + count, 0),
    startCreatedMs: startMs,
    seed,
  });
  let index = 0;
  counts.forEach((count, hour) => {
    const stepMs = Math.floor((3 * HOUR) / (count + 3));
    for (let i = 0; i < count; i++)
      (activities[index++] as RawActivity)['created'] = startMs + hour * HOUR + Math.floor(i / 3) * stepMs;
  });
  return activities;
}

export function createdOf(activity: RawActivity): number {
  return activity['created'] as number;
}

/** Rows of each sub-window, given its ends (exclusive) and where the first one starts. */
export function rowsPerSubWindow(
  activities: readonly RawActivity[],
  startMs: number,
  ends: readonly number[],
): number[] {
  return ends.map(
    (end, i) => activities.filter((a) => createdOf(a) >= (ends[i - 1] ?? startMs) && createdOf(a) < end).length,
  );
}

/** The end (exclusive) of the sub-window of every scan request, in the order they were sent. */
export function requestEnds(stack: LocalStack): number[] {
  return stack.mcas.requests.map((r) => (r.body as { filters: { created: { lte: number } } }).filters.created.lte + 1);
}

/** Ends (exclusive) of the sub-windows scanned so far, from the `created` filter every scan request carries. */
export function subWindowEnds(stack: LocalStack): number[] {
  return [...new Set(requestEnds(stack))].sort((a, b) => a - b);
}

/** A stack whose MCAS refuses the token from its request number `from` (0-based) on, closed after the test. */
export async function withMcasRefusingFrom(
  t: TestContext,
  activities: readonly RawActivity[],
  from: number,
): Promise<{ stack: LocalStack; checkpoints: MemoryCheckpointStore }> {
  const stack = await startLocalStack({
    activities,
    mcas: { faults: (i) => (i >= from ? { status: 401, body: { detail: 'Invalid token.' } } : undefined) },
  });
  t.after(() => stack.close());
  return { stack, checkpoints: new MemoryCheckpointStore('activities') };
}

export interface SeenSave {
  cursor: number;
  /** Ids Log Analytics had accepted when the checkpoint was written. */
  accepted: Set<string>;
  /** Sub-window ends scanned by then. */
  ends: number[];
}

/**
 * `store`, noting at each save what Log Analytics had accepted and which sub-windows had been scanned. The save
 * numbered `crashAt` (0-based) throws instead, as a crash between an accepted post and its checkpoint would.
 */
export function watchSaves(
  store: MemoryCheckpointStore,
  stack: LocalStack,
  crashAt = -1,
): { store: CheckpointStore; saves: SeenSave[] } {
  const saves: SeenSave[] = [];
  const watched: CheckpointStore = {
    load: () => store.load(),
    save: async (checkpoint, etag) => {
      if (saves.length === crashAt) throw new Error('scripted crash before the checkpoint write');
      saves.push({ cursor: checkpoint.cursor, accepted: new Set(receivedIds(stack)), ends: subWindowEnds(stack) });
      return store.save(checkpoint, etag);
    },
    prepare: (stored) => store.prepare(stored),
    describe: () => store.describe(),
    loadReport: () => store.loadReport(),
    saveReport: (report) => store.saveReport(report),
  };
  return { store: watched, saves };
}

/**
 * Each checkpoint written is the latest sub-window end scanned so far before which Log Analytics had accepted every
 * activity: never one with rows still unsent (a gap), and never one behind what the accepted batch completed.
 */
export function assertSavesFollowAcceptedRows(saves: readonly SeenSave[], activities: readonly RawActivity[]): void {
  assert.ok(saves.length > 0);
  for (const save of saves) {
    const allAccepted = (end: number): boolean =>
      activities.every((a) => createdOf(a) >= end || save.accepted.has(a['_id'] as string));
    assert.equal(
      save.cursor,
      save.ends.filter(allAccepted).at(-1),
      `save at ${save.cursor} with ${save.accepted.size} rows accepted`,
    );
  }
}
