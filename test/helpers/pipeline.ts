// Builds the real run dependencies (McasClient, DataCollectorSink, undici) against a LocalStack, with an injected
// checkpoint store and instant sleeps (unless given a sleep, e.g. a FakeClock's), plus the assertions the end-to-end
// tests share.
import assert from 'node:assert/strict';

import type { RawActivity } from '../../emulators/activityGenerator.js';
import type { LocalStack } from '../../emulators/localStack.js';
import type { Checkpoint, CheckpointStore } from '../../src/checkpoint/CheckpointStore.js';
import { type Clock, type Sleep, systemClock } from '../../src/clock.js';
import { readConfig } from '../../src/config.js';
import { RecordingLogger } from '../../src/logger.js';
import { runIngestion, type RunOptions, type RunSummary } from '../../src/run.js';
import type { LogSink } from '../../src/sink/LogSink.js';
import type { Secrets } from '../../src/secrets.js';
import { createDependencies } from '../../src/wiring.js';

export const TEST_RUN_OPTIONS: Omit<RunOptions, 'window'> = {
  initialLookbackMs: 48 * 3600_000,
  settleMs: 0,
  timeBudgetMs: 10 * 60_000,
  pageSize: 100,
  maxBatchBytes: 64 * 1024,
  extraFilters: {},
};

export async function runAgainst(
  stack: Pick<LocalStack, 'settings'>,
  checkpoints: CheckpointStore,
  options: Partial<RunOptions> & {
    clock?: Clock;
    sleep?: Sleep;
    log?: RecordingLogger;
    settings?: Record<string, string>;
    /** Stands between the run and the real sink, e.g. to watch what it is given. */
    wrapSink?: (sink: LogSink) => LogSink;
  } = {},
): Promise<RunSummary> {
  const config = readConfig({ ...stack.settings, ...options.settings, CHECKPOINT_STORE: 'file:unused' });
  assert.ok(config.secrets.kind === 'environment');
  const secrets: Secrets = { mcasToken: config.secrets.mcasToken, workspaceKey: config.secrets.workspaceKey };
  const clock = options.clock ?? systemClock;
  const runtime = await createDependencies(config, secrets, options.log ?? new RecordingLogger(), {
    checkpoints,
    clock,
    sleep: options.sleep ?? (async () => {}),
  });
  try {
    const deps = options.wrapSink ? { ...runtime.deps, sink: options.wrapSink(runtime.deps.sink) } : runtime.deps;
    return await runIngestion(deps, { ...TEST_RUN_OPTIONS, ...options });
  } finally {
    await runtime.close();
  }
}

/** True when `checkpoint` says this activity was already delivered. */
export function isCovered(checkpoint: Checkpoint, activity: RawActivity): boolean {
  const created = activity['created'] as number;
  return (
    created < checkpoint.cursor ||
    (created === checkpoint.cursor && checkpoint.idsAtCursor.includes(activity['_id'] as string))
  );
}

export function receivedIds(stack: LocalStack): string[] {
  return stack.logAnalytics.rows().map((row) => row['ActivityId'] as string);
}
