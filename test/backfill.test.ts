import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { generateActivities } from '../emulators/activityGenerator.js';
import { type LocalStack, startLocalStack } from '../emulators/localStack.js';
import { backfillName, legacyBackfillName, runBackfill } from '../src/backfill.js';
import { FileCheckpointStore } from '../src/checkpoint/FileCheckpointStore.js';
import { RecordingLogger } from '../src/logger.js';
import type { RunProgress } from '../src/run.js';
import { runOnce } from '../src/runOnce.js';
import { ALERTS } from '../src/streams.js';
import { receivedIds } from './helpers/pipeline.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('backfill', () => {
  // Three days of history, saved steadily.
  const activities = generateActivities({
    count: 1_500,
    startCreatedMs: Date.now() - 3 * DAY,
    seed: 31,
    spanMs: 3 * DAY - HOUR,
  });
  let stack: LocalStack;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    stack = await startLocalStack({ activities });
    dir = await mkdtemp(join(tmpdir(), 'backfill-'));
    env = {
      ...stack.settings,
      CHECKPOINT_STORE: `file:${dir}`,
      CREATED_SETTLE_SECONDS: '0',
      INITIAL_LOOKBACK_MINUTES: String(24 * 60),
    };
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  const fromMs = Date.now() - 3 * DAY - HOUR;
  const toMs = Date.now() - 2 * DAY;

  it('loads a past range with its own checkpoint and shows progress across the range', async () => {
    const progress: RunProgress[] = [];
    const result = await runBackfill(env, new RecordingLogger(), {
      fromMs,
      toMs,
      timeBudgetMs: 10 * 60_000,
      onProgress: (p) => progress.push(p),
    });
    const expected = activities.filter((a) => (a['created'] as number) <= toMs).map((a) => a['_id']);
    assert.equal(result.summary?.sent, expected.length);
    assert.deepEqual(new Set(receivedIds(stack)), new Set(expected));
    assert.equal(result.name, backfillName(fromMs, toMs));
    assert.ok(existsSync(join(dir, `${result.name}.json`)), 'the backfill has its own checkpoint');
    assert.equal(existsSync(join(dir, 'activities.json')), false, 'the live checkpoint was not touched');
    assert.ok(progress.length >= 2);
    const fractions = progress.map((p) => (p.cursorMs - p.windowStartMs) / (p.windowEndMs - p.windowStartMs));
    assert.deepEqual(
      fractions,
      [...fractions].sort((a, b) => a - b),
    );
    assert.ok((fractions.at(-1) ?? 0) > 0.9);
  });

  it('names its checkpoint after the range, in UTC to the second, and alerts apart', () => {
    const from = Date.UTC(2026, 0, 1);
    const to = Date.UTC(2026, 1, 1, 12, 30, 5, 999);
    assert.equal(backfillName(from, to), 'backfill-20260101-000000-20260201-123005');
    assert.equal(backfillName(from, to, ALERTS), 'backfill-alerts-20260101-000000-20260201-123005');
  });

  it('resumes a backfill started under the earlier base-36 name', async (t) => {
    const legacyDir = await mkdtemp(join(tmpdir(), 'backfill-legacy-'));
    t.after(() => rm(legacyDir, { recursive: true, force: true }));
    const legacy = legacyBackfillName(fromMs, toMs);
    assert.match(legacy, /^backfill-[0-9a-z]+-[0-9a-z]+$/);
    // Half the range was loaded under the old name: the rest follows on under it, and nothing before is sent again.
    const halfMs = fromMs + Math.floor((toMs - fromMs) / 2);
    await new FileCheckpointStore(legacyDir, legacy).save(
      {
        version: 1,
        cursor: halfMs,
        idsAtCursor: [],
        origin: fromMs,
        windowEnd: toMs,
        updatedAt: new Date().toISOString(),
      },
      undefined,
    );
    const log = new RecordingLogger();
    const result = await runBackfill({ ...env, CHECKPOINT_STORE: `file:${legacyDir}` }, log, {
      fromMs,
      toMs,
      timeBudgetMs: 60_000,
      dryRun: true,
    });
    assert.equal(result.name, legacy);
    assert.match(log.text(), new RegExp(`under the name it was started with, ${legacy}`));
    const expected = activities.filter((a) => (a['created'] as number) >= halfMs && (a['created'] as number) <= toMs);
    assert.equal(result.summary?.fetched, expected.length);
  });

  it('sends nothing more when the same backfill is run again after it finished', async () => {
    const before = receivedIds(stack).length;
    const again = await runBackfill(env, new RecordingLogger(), { fromMs, toMs, timeBudgetMs: 60_000 });
    assert.equal(again.name, backfillName(fromMs, toMs));
    assert.equal(again.summary?.sent, 0);
    assert.equal(receivedIds(stack).length, before);
  });

  it('leaves out what the live stream already covers, so live and backfill together send each activity once', async () => {
    const live = await runOnce(env, new RecordingLogger());
    assert.ok(live.sent > 0);
    const liveStore = new FileCheckpointStore(dir, 'activities');
    const origin = (await liveStore.load())?.checkpoint.origin;
    assert.ok(origin !== undefined);

    const log = new RecordingLogger();
    const result = await runBackfill(env, log, {
      fromMs: Date.now() - 2 * DAY - 1,
      toMs: Date.now(),
      timeBudgetMs: 10 * 60_000,
    });
    assert.equal(result.endMs, origin - 1);
    assert.match(log.text(), /the backfill stops at .* so nothing is sent twice/);
    const ids = receivedIds(stack);
    assert.equal(ids.length, new Set(ids).size, 'no activity was sent twice');
    assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
  });

  it('resumes from its own checkpoint after stopping at its time budget', async (t) => {
    const data = generateActivities({ count: 900, startCreatedMs: Date.now() - 10 * DAY, seed: 32, spanMs: DAY });
    let offsetMs = 0;
    const slow = await startLocalStack({ activities: data, mcas: { faults: () => ((offsetMs += 10_000), undefined) } });
    const slowDir = await mkdtemp(join(tmpdir(), 'backfill-resume-'));
    t.after(async () => {
      await slow.close();
      await rm(slowDir, { recursive: true, force: true });
    });
    const slowEnv = { ...slow.settings, CHECKPOINT_STORE: `file:${slowDir}` };
    const clock = { nowMs: () => Date.now() + offsetMs };
    const range = {
      fromMs: Date.now() - 11 * DAY,
      toMs: Date.now() - 8 * DAY,
      timeBudgetMs: 60_000,
      overrides: { clock },
    };
    const first = await runBackfill(slowEnv, new RecordingLogger(), range);
    assert.equal(first.summary?.moreToDo, true);
    let runs = 1;
    for (let more = true; more && runs < 20; runs++)
      more = (await runBackfill(slowEnv, new RecordingLogger(), range)).summary?.moreToDo ?? false;
    const ids = receivedIds(slow);
    assert.deepEqual(new Set(ids), new Set(data.map((a) => a['_id'])));
    assert.equal(ids.length, data.length);
  });
});
