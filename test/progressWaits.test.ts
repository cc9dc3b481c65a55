// The waits a person watching a run should hear about reach the progress display: the pacer's waits for MCAS's rate
// limit and the wait after a throttled answer, through the real wiring against the loopback MCAS.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { generateActivities } from '../emulators/activityGenerator.js';
import { startLocalStack } from '../emulators/localStack.js';
import { MemoryCheckpointStore } from '../src/checkpoint/MemoryCheckpointStore.js';
import { readConfig } from '../src/config.js';
import { RecordingLogger } from '../src/logger.js';
import { runIngestion } from '../src/run.js';
import { createDependencies, type McasWait } from '../src/wiring.js';
import { FakeClock } from './helpers/fakeTime.js';
import { TEST_RUN_OPTIONS } from './helpers/pipeline.js';

describe('waits for MCAS', () => {
  it('are told to onWait: the rate limit with its length and limit, and a throttled answer', async (t) => {
    const clock = new FakeClock(Date.now());
    const activities = generateActivities({ count: 350, startCreatedMs: clock.nowMs() - 3_600_000, seed: 7 });
    // The third request is throttled without Retry-After, so the run waits MCAS_THROTTLE_WAIT_SECONDS.
    const stack = await startLocalStack({
      activities,
      mcas: { faults: (i) => (i === 2 ? { status: 429 } : undefined) },
    });
    t.after(() => stack.close());
    const config = readConfig({
      ...stack.settings,
      CHECKPOINT_STORE: 'file:unused',
      MCAS_MAX_REQUESTS_PER_MINUTE: '2',
      MCAS_THROTTLE_WAIT_SECONDS: '45',
    });
    assert.ok(config.secrets.kind === 'environment');
    const waits: McasWait[] = [];
    const runtime = await createDependencies(
      config,
      { mcasToken: config.secrets.mcasToken, workspaceKey: config.secrets.workspaceKey },
      new RecordingLogger(),
      { checkpoints: new MemoryCheckpointStore('activities'), clock, sleep: clock.sleep, onWait: (w) => waits.push(w) },
    );
    t.after(() => runtime.close());
    const summary = await runIngestion(runtime.deps, {
      ...TEST_RUN_OPTIONS,
      timeBudgetMs: 3_600_000,
      window: { endMs: clock.nowMs() },
    });
    assert.equal(summary.sent, 350);
    const throttled = waits.filter((w) => w.kind === 'throttled');
    assert.equal(throttled.length, 1);
    assert.ok((throttled[0]?.waitMs ?? 0) >= 45_000, `throttle wait ${throttled[0]?.waitMs}`);
    const paced = waits.filter((w) => w.kind === 'rateLimit');
    assert.ok(paced.length >= 2, `rate-limit waits: ${paced.length}`);
    assert.ok(paced.every((w) => w.requestsPerMinute === 2 && w.waitMs > 0 && w.waitMs <= 60_000));
  });
});
