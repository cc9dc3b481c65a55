import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { generateActivities, type RawActivity } from '../emulators/activityGenerator.js';
import { startLocalStack } from '../emulators/localStack.js';
import { MemoryCheckpointStore } from '../src/checkpoint/MemoryCheckpointStore.js';
import { RecordingLogger } from '../src/logger.js';
import type { AutoPagingOptions } from '../src/run.js';
import { isCovered, receivedIds, runAgainst } from './helpers/pipeline.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * `created` values for generated activities, in order. Auto paging here counts 1 request a minute and stops fetching at
 * 6 minutes (a 480 s budget without a schedule): keyset can read 600 activities, so it hands over to scan when MCAS
 * counts more than 300 and takes over again when about 150 are left.
 */
function activitiesAt(created: readonly number[], seed: number): RawActivity[] {
  const activities = generateActivities({ count: created.length, startCreatedMs: 0, seed });
  created.forEach((ms, i) => ((activities[i] as RawActivity)['created'] = ms));
  return activities;
}

const AUTO: AutoPagingOptions = { mode: 'auto', pageSize: 500, windowMs: HOUR, requestsPerMinute: 1 };

function switches(log: RecordingLogger): string[] {
  return log.lines
    .map((line) => line.message)
    .filter((message) => /reading on in (scan sub-windows|keyset pages)/.test(message))
    .map((message) => (message.includes('scan') ? 'scan' : 'keyset'));
}

describe('MCAS_PAGING=auto', () => {
  it('hands keyset over to scan inside a tie group and back at a sub-window end between two, losing and repeating nothing', async (t) => {
    const startMs = Date.now() - 4 * HOUR;
    const c = startMs + 10 * MINUTE;
    const windowEndMs = c + HOUR + 20 * MINUTE - 1;
    const created = [
      // 150 activities in one millisecond: keyset's first page of 100 stops inside it, and scan starts there.
      ...Array.from({ length: 150 }, () => c),
      ...Array.from({ length: 250 }, (_, i) => c + 1 + Math.floor((i * 30 * MINUTE) / 250)),
      // Three at the last millisecond of the first sub-window (c .. c + 1 h - 1) and three at the first after it,
      // where auto goes back to keyset: 303 activities in that hour leave about 101 in the last 20 minutes.
      ...[0, 1, 2].map(() => c + HOUR - 1),
      ...[0, 1, 2].map(() => c + HOUR),
      ...Array.from({ length: 10 }, (_, i) => c + HOUR + 1 + i * MINUTE),
    ];
    const activities = activitiesAt(created, 31);
    const stack = await startLocalStack({ activities });
    t.after(() => stack.close());
    const checkpoints = new MemoryCheckpointStore('activities');
    const log = new RecordingLogger();
    const summary = await runAgainst(stack, checkpoints, {
      paging: AUTO,
      timeBudgetMs: 480_000,
      log,
      window: { startMs, endMs: windowEndMs },
    });
    assert.deepEqual(switches(log), ['scan', 'keyset']);
    const ids = receivedIds(stack);
    assert.equal(ids.length, activities.length, 'nothing repeated');
    assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])), 'nothing lost');
    assert.equal(summary.moreToDo, false);
    assert.equal(checkpoints.history.at(-1)?.cursor, windowEndMs + 1);
    // The first scan request starts at the tie group's millisecond; keyset takes over at the millisecond after the
    // sub-window, holding the three activities saved then.
    const bodies = stack.mcas.requests.map(
      (r) => r.body as { isScan?: boolean; filters: { created: { gte: number; lte: number } } },
    );
    const scans = bodies.filter((b) => b.isScan === true);
    assert.equal(scans[0]?.filters.created.gte, c);
    assert.equal(scans.at(-1)?.filters.created.lte, c + HOUR - 1);
    const keysetAfter = bodies.slice(bodies.indexOf(scans.at(-1) as (typeof bodies)[number]) + 1);
    assert.ok(keysetAfter.length > 0 && keysetAfter.every((b) => b.isScan !== true));
    assert.equal(keysetAfter[0]?.filters.created.gte, c + HOUR);
  });

  it('keeps keyset for a backlog it can read, and the keyset bound on duplicates after a refused post', async (t) => {
    const startMs = Date.now() - 2 * HOUR;
    const created = Array.from({ length: 250 }, (_, i) => startMs + Math.floor(i / 3) * 1000);
    const activities = activitiesAt(created, 32);
    let refuse = true;
    const stack = await startLocalStack({
      activities,
      logAnalytics: {
        faults: (i) => (refuse && i === 1 ? { status: 400, body: { Error: 'InvalidDataFormat' } } : undefined),
      },
    });
    t.after(() => stack.close());
    const checkpoints = new MemoryCheckpointStore('activities');
    const log = new RecordingLogger();
    const options = { paging: AUTO, timeBudgetMs: 480_000, log, maxBatchBytes: 256 * 1024 };
    await assert.rejects(runAgainst(stack, checkpoints, options));
    refuse = false;
    await runAgainst(stack, checkpoints, options);
    assert.deepEqual(switches(log), [], 'keyset throughout');
    assert.ok(stack.mcas.requests.every((r) => (r.body as { isScan?: boolean }).isScan !== true));
    const ids = receivedIds(stack);
    assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
    const first = stack.logAnalytics.batches[0]?.records.length ?? 0;
    assert.ok(ids.length - activities.length <= first, `duplicates ${ids.length - activities.length}, batch ${first}`);
    for (const checkpoint of checkpoints.history)
      for (const activity of activities)
        if (isCovered(checkpoint, activity)) assert.ok(ids.includes(activity['_id'] as string));
  });
});
