import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { generateActivities } from '../emulators/activityGenerator.js';
import { type LocalStack, startLocalStack } from '../emulators/localStack.js';
import { RecordingLogger } from '../src/logger.js';
import { runOnce } from '../src/runOnce.js';
import { formatStatus, readStatus } from '../src/status.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

function cliStatus(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'status', ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env } },
      (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
    );
  });
}

describe('status', () => {
  const activities = generateActivities({
    count: 300,
    startCreatedMs: Date.now() - 2 * 3600_000,
    seed: 41,
    spanMs: 3600_000,
  });
  let stack: LocalStack;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    stack = await startLocalStack({ activities });
    dir = await mkdtemp(join(tmpdir(), 'status-'));
    env = { ...stack.settings, CHECKPOINT_STORE: `file:${dir}`, CREATED_SETTLE_SECONDS: '0' };
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is unhealthy before any run has saved a checkpoint, and counts the backlog in MCAS', async () => {
    const status = await readStatus(env, new RecordingLogger(), { maxLagMinutes: 30 });
    assert.equal(status.checkpoint, undefined);
    assert.equal(status.healthy, false);
    assert.match(status.problems.join(), /No checkpoint yet/);
    assert.equal(status.backlog, 300);
    const cli = await cliStatus([], env);
    assert.equal(cli.code, 1);
    assert.match(cli.stdout, /health {7}NOT OK/);
    assert.match(cli.stdout, /backlog {6}about 300 in MCAS within the first run's lookback/);
    assert.doesNotMatch(cli.stdout, /after the checkpoint/);
  });

  it('after a run: shows the checkpoint, a small lag, the last run and no backlog, and exits 0', async () => {
    await runOnce(env, new RecordingLogger());
    const status = await readStatus(env, new RecordingLogger(), { maxLagMinutes: 30 });
    assert.equal(status.healthy, true, status.problems.join());
    assert.ok((status.lagMinutes ?? 99) < 1);
    assert.equal(status.lastRun?.outcome, 'succeeded');
    assert.equal(status.lastRun.sent, 300);
    assert.equal(status.backlog, 0);
    assert.match(formatStatus(status), /last run {5}succeeded at .*fetched 300, sent 300/);
    const cli = await cliStatus(['--json'], env);
    assert.equal(cli.code, 0);
    assert.equal((JSON.parse(cli.stdout) as { healthy: boolean }).healthy, true);
  });

  it('exits 1 when the lag is above the threshold', async () => {
    const cli = await cliStatus(['--max-lag-minutes', '0.0001', '--no-backlog'], env);
    assert.equal(cli.code, 1);
    assert.match(cli.stdout, /Lag .* min is above 0.0001 min/);
  });

  it('reports a failed last run with its error, and the backlog waiting behind the checkpoint', async () => {
    stack.mcas.addActivities(
      generateActivities({ count: 7, startCreatedMs: Date.now() + 1, seed: 42, spanMs: 5 }).map((a, i) => ({
        ...a,
        _id: `waiting-${i}`,
      })),
    );
    const broken = { ...env, LOG_ANALYTICS_WORKSPACE_KEY: Buffer.from('not-the-key').toString('base64') };
    await assert.rejects(
      runOnce(broken, new RecordingLogger(), { overrides: { clock: { nowMs: () => Date.now() + 60_000 } } }),
    );
    const status = await readStatus(env, new RecordingLogger(), { maxLagMinutes: 30 });
    assert.equal(status.lastRun?.outcome, 'failed');
    assert.match(status.lastRun.error ?? '', /HttpStatusError: Log Analytics answered 403/);
    assert.equal(status.backlog, 7);
    assert.equal(status.healthy, false);
  });
});
