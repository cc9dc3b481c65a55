import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import azureFunctions from '@azure/functions';

import { generateActivities } from '../../emulators/activityGenerator.js';
import { generateAlerts } from '../../emulators/alertGenerator.js';
import { type LocalStack, startLocalStack } from '../../emulators/localStack.js';
import { FileCheckpointStore } from '../../src/checkpoint/FileCheckpointStore.js';
import { sleep, systemClock } from '../../src/clock.js';
import { readConfig } from '../../src/config.js';
import { DeadlineReachedError } from '../../src/errors.js';
import { mcasAlertTimer } from '../../src/functions/mcasAlertTimer.js';
import { RecordingLogger } from '../../src/logger.js';
import { sharedPacer } from '../../src/mcas/RequestPacer.js';
import { runOnce } from '../../src/runOnce.js';
import { ALERTS } from '../../src/streams.js';
import { timer, withEnv } from '../helpers/processEnv.js';

const { InvocationContext } = azureFunctions;
const TIMER = timer();

describe('the alerts stream', () => {
  const alerts = generateAlerts({ count: 230, startMs: Date.now() - 10 * 3600_000, seed: 5, spanMs: 8 * 3600_000 });
  const activities = generateActivities({ count: 50, startCreatedMs: Date.now() - 3600_000, seed: 6, spanMs: 1_000 });
  let stack: LocalStack;
  let dir: string;
  let settings: Record<string, string>;
  before(async () => {
    stack = await startLocalStack({ activities, mcas: { alerts } });
    dir = await mkdtemp(join(tmpdir(), 'alerts-'));
    settings = { ...stack.settings, CHECKPOINT_STORE: `file:${dir}`, CREATED_SETTLE_SECONDS: '0' };
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('does nothing while MCAS_ALERTS_ENABLED is not true', async () => {
    await withEnv(settings, () => mcasAlertTimer(TIMER, new InvocationContext()));
    assert.equal(stack.mcas.requests.length, 0);
  });

  it('copies every alert into MCAS_Alert_Log with AlertTime as TimeGenerated, on a checkpoint of its own', async () => {
    await withEnv({ ...settings, MCAS_ALERTS_ENABLED: 'true' }, () => mcasAlertTimer(TIMER, new InvocationContext()));
    const batches = stack.logAnalytics.batches;
    assert.ok(batches.length > 0);
    assert.ok(batches.every((b) => b.logType === 'MCAS_Alert_Log' && b.timeGeneratedField === 'AlertTime'));
    const ids = stack.logAnalytics.rows().map((r) => r['AlertId']);
    assert.equal(ids.length, 230);
    assert.deepEqual(new Set(ids), new Set(alerts.map((a) => a['_id'])));
    assert.ok(stack.mcas.requests.every((r) => r.path === '/api/v1/alerts/'));
    const alertRequests = stack.mcas.requests.map(
      (r) => r.body as { sortField: string; filters: Record<string, unknown> },
    );
    assert.ok(alertRequests.every((b) => b.sortField === 'date' && 'date' in b.filters));
    assert.ok((await new FileCheckpointStore(dir, 'alerts').load()) !== undefined);
    assert.equal(
      await new FileCheckpointStore(dir, 'activities').load(),
      undefined,
      'the activities checkpoint is separate',
    );
  });

  it('sends nothing twice on the next run, while the activities stream is untouched by it', async () => {
    const summary = await runOnce({ ...settings, MCAS_ALERTS_ENABLED: 'true' }, new RecordingLogger(), {
      stream: ALERTS,
    });
    assert.equal(summary.sent, 0);
    const activitiesRun = await runOnce(settings, new RecordingLogger());
    assert.equal(activitiesRun.sent, 50);
  });
});

describe('the alerts timer beside the activities timer', () => {
  it("counts its MCAS requests against the per-minute limit that the activities timer's runs share", async (t) => {
    const alerts = generateAlerts({ count: 230, startMs: Date.now() - 10 * 3600_000, seed: 7, spanMs: 8 * 3600_000 });
    const stack = await startLocalStack({ activities: [], mcas: { alerts } });
    const dir = await mkdtemp(join(tmpdir(), 'alerts-pacer-'));
    t.after(async () => {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    });
    const limit = 10;
    const env = {
      ...stack.settings,
      CHECKPOINT_STORE: `file:${dir}`,
      CREATED_SETTLE_SECONDS: '0',
      MCAS_ALERTS_ENABLED: 'true',
      MCAS_MAX_REQUESTS_PER_MINUTE: String(limit),
    };
    await withEnv(env, () => mcasAlertTimer(TIMER, new InvocationContext()));
    const used = stack.mcas.requests.length;
    assert.ok(used > 0 && used < limit, `${used} requests`);
    // The pacer an activities timer run of this tenant takes in this process: the alerts run's requests are in it.
    const pacer = sharedPacer(readConfig(env).mcas.portalUrl, { maxRequests: limit, clock: systemClock, sleep });
    for (let slot = used; slot < limit; slot++) (await pacer.acquire({ deadlineMs: Date.now() }))();
    await assert.rejects(pacer.acquire({ deadlineMs: Date.now() }), DeadlineReachedError);
  });
});
