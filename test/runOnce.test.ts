import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { generateActivities } from '../emulators/activityGenerator.js';
import { startLocalStack } from '../emulators/localStack.js';
import { MemoryCheckpointStore } from '../src/checkpoint/MemoryCheckpointStore.js';
import { HttpStatusError } from '../src/errors.js';
import { RecordingLogger } from '../src/logger.js';
import { runOnce } from '../src/runOnce.js';

describe('runOnce', () => {
  it('reports what a failed run delivered and checkpointed before MCAS refused it', async (t) => {
    const activities = generateActivities({ count: 1_000, startCreatedMs: Date.now() - 3_600_000, seed: 61 });
    // Six pages of 100 are read, then MCAS refuses the token.
    const stack = await startLocalStack({
      activities,
      mcas: { faults: (i) => (i >= 6 ? { status: 401, body: { detail: 'Invalid token.' } } : undefined) },
    });
    t.after(() => stack.close());
    const checkpoints = new MemoryCheckpointStore('activities');
    const env = { ...stack.settings, CHECKPOINT_STORE: 'file:unused', MAX_BATCH_BYTES: String(1024 * 1024) };
    await assert.rejects(
      runOnce(env, new RecordingLogger(), { overrides: { checkpoints } }),
      (error: unknown) => error instanceof HttpStatusError && error.status === 401,
    );

    const report = await checkpoints.loadReport();
    const saved = checkpoints.history.at(-1);
    assert.ok(report && saved);
    const posts = stack.logAnalytics.batches;
    assert.ok(posts.length >= 2, `posts: ${posts.length}`);
    assert.equal(report.outcome, 'failed');
    assert.match(report.error ?? '', /HttpStatusError: MCAS answered 401/);
    assert.equal(report.pages, 6);
    assert.ok(report.fetched > 500, `fetched: ${report.fetched}`);
    assert.equal(report.sent, stack.logAnalytics.rows().length);
    assert.equal(report.sent, report.fetched, 'every row read was delivered before the run failed');
    assert.equal(report.batches, posts.length);
    assert.equal(report.checkpoint, new Date(saved.cursor).toISOString());
  });
});
