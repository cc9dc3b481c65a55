// The hostile-server suite: loopback servers that misbehave in ways the connector does not expect (pages out of order,
// a lying hasNext, dripping bytes, echoed headers, a clock an hour off). Each case must end in no loss, or in a loud
// failure that leaves the checkpoint where it was.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { generateActivities, type RawActivity } from '../../emulators/activityGenerator.js';
import { type DataCollectorEmulator, startDataCollectorEmulator } from '../../emulators/dataCollectorEmulator.js';
import {
  FAKE_MCAS_TOKEN,
  FAKE_WORKSPACE_ID,
  FAKE_WORKSPACE_KEY,
  localStackSettings,
} from '../../emulators/localStack.js';
import { runBackfill } from '../../src/backfill.js';
import { BlobCheckpointStore } from '../../src/checkpoint/BlobCheckpointStore.js';
import type { Checkpoint } from '../../src/checkpoint/CheckpointStore.js';
import { FileCheckpointStore } from '../../src/checkpoint/FileCheckpointStore.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/MemoryCheckpointStore.js';
import { ConfigError } from '../../src/errors.js';
import { readConfig } from '../../src/config.js';
import { RecordingLogger } from '../../src/logger.js';
import type { PagingOptions, RunSummary } from '../../src/run.js';
import { runOnce } from '../../src/runOnce.js';
import { readStatus } from '../../src/status.js';
import { FakeClock } from '../helpers/fakeTime.js';
import { type HostileServer, mcasPages, startHostileServer } from '../helpers/hostileServer.js';
import { isCovered, runAgainst } from '../helpers/pipeline.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T = Date.UTC(2026, 10, 23, 12, 0, 0);
const SETTLE_MS = 2 * MINUTE;

function idsOf(activities: readonly RawActivity[]): string[] {
  return activities.map((a) => a['_id'] as string);
}

/** Settles `work` or gives up after `ms` of real time: a hang fails the test instead of holding the suite. */
async function within<T>(ms: number, work: Promise<T>): Promise<{ value?: T; error?: unknown; elapsedMs: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  const outcome = await Promise.race([
    work.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    timeout,
  ]);
  clearTimeout(timer);
  if (outcome === 'timeout') assert.fail(`still running after ${ms} ms`);
  return { ...outcome, elapsedMs: Date.now() - started };
}

/** The checkpoint never covered an activity that did not reach Log Analytics. */
function assertNoGap(history: readonly Checkpoint[], activities: readonly RawActivity[], received: Set<string>): void {
  for (const checkpoint of history) {
    for (const activity of activities) {
      if (isCovered(checkpoint, activity)) {
        assert.ok(
          received.has(activity['_id'] as string),
          `checkpoint ${new Date(checkpoint.cursor).toISOString()} passed ${String(activity['_id'])}, which never arrived`,
        );
      }
    }
  }
}

/** Every string a server could echo of `secret` and that must never be shown: its forms and any 12 characters of them. */
function assertNoSecret(text: string, secret: string, where: string): void {
  const forms = [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(`Token ${secret}`)];
  for (const form of forms) {
    for (let i = 0; i + 12 <= form.length; i++) {
      const piece = form.slice(i, i + 12);
      assert.ok(!text.includes(piece), `${where} shows "${piece}", a part of a secret: ${text.slice(0, 300)}`);
    }
  }
}

/** The Data Collector emulator; `nowMs` is its clock, which checks x-ms-date within `clockSkewMs`. */
async function startLogAnalytics(
  nowMs: () => number = Date.now,
  clockSkewMs = 15 * MINUTE,
): Promise<DataCollectorEmulator> {
  return startDataCollectorEmulator({
    workspaceId: FAKE_WORKSPACE_ID,
    sharedKeyBase64: FAKE_WORKSPACE_KEY,
    clockSkewMs,
    clock: { nowMs },
  });
}

function received(la: DataCollectorEmulator): Set<string> {
  return new Set(la.rows().map((row) => row['ActivityId'] as string));
}

// ---------------------------------------------------------------------------------------------------------------

describe('hostile MCAS: the host clock is off', () => {
  const early = generateActivities({ count: 40, startCreatedMs: T - 2 * HOUR, seed: 1601, spanMs: HOUR });
  const late = generateActivities({ count: 40, startCreatedMs: T + MINUTE, seed: 1602, spanMs: 30 * MINUTE });
  let mcasNowMs = T;
  let mcas: HostileServer;
  let la: DataCollectorEmulator;
  before(async () => {
    mcas = await startHostileServer(mcasPages({ activities: [...early, ...late], sourceNowMs: () => mcasNowMs }));
    la = await startLogAnalytics(() => mcasNowMs, 3 * HOUR);
  });
  after(async () => {
    await mcas.close();
    await la.close();
  });

  for (const skew of [HOUR, -HOUR]) {
    it(`loses nothing and never saves a cursor ahead of MCAS's time with a host clock ${skew > 0 ? 'an hour fast' : 'an hour slow'}`, async () => {
      mcasNowMs = T;
      const startRows = la.rows().length;
      const host = new FakeClock(T + skew);
      const checkpoints = new MemoryCheckpointStore('activities');
      const settings = localStackSettings(mcas.url, la.url);
      for (let run = 0; run < 4; run++) {
        await runAgainst({ settings }, checkpoints, { clock: host, settleMs: SETTLE_MS, initialLookbackMs: 3 * HOUR });
        for (const checkpoint of checkpoints.history) {
          assert.ok(
            checkpoint.cursor <= mcasNowMs,
            `run ${run + 1} saved a cursor ${Math.round((checkpoint.cursor - mcasNowMs) / MINUTE)} min ahead of MCAS's clock`,
          );
        }
        mcasNowMs += 40 * MINUTE;
        host.advance(40 * MINUTE);
      }
      const got = new Set(
        la
          .rows()
          .slice(startRows)
          .map((row) => row['ActivityId'] as string),
      );
      for (const id of idsOf([...early, ...late])) assert.ok(got.has(id), `${id} never arrived`);
    });
  }

  it('fails a run, and status reports unhealthy, when the checkpoint is in MCAS future', async () => {
    mcasNowMs = T;
    const host = new FakeClock(T);
    const ahead: Checkpoint = {
      version: 1,
      cursor: T + 365 * 24 * HOUR,
      idsAtCursor: [],
      windowEnd: T + 365 * 24 * HOUR - 1,
      updatedAt: new Date(T).toISOString(),
    };
    const checkpoints = new MemoryCheckpointStore('activities', ahead);
    const settings = localStackSettings(mcas.url, la.url);
    await assert.rejects(runAgainst({ settings }, checkpoints, { clock: host, settleMs: SETTLE_MS }), /ahead of MCAS/);
    assert.deepEqual(checkpoints.history, []);

    const status = await readStatus({ ...settings, CHECKPOINT_STORE: 'file:unused' }, new RecordingLogger(), {
      maxLagMinutes: 60,
      overrides: { checkpoints, clock: host },
    });
    assert.equal(status.healthy, false);
    assert.match(status.problems.join(' '), /ahead of MCAS/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('hostile MCAS: pages it cannot be trusted on', () => {
  const activities = generateActivities({ count: 600, startCreatedMs: T - 2 * HOUR, seed: 1603, spanMs: HOUR });
  let la: DataCollectorEmulator;
  before(async () => {
    la = await startLogAnalytics(() => T);
  });
  after(async () => {
    await la.close();
  });

  const cases: {
    name: string;
    script: Omit<Parameters<typeof mcasPages>[0], 'activities'>;
    error: RegExp;
    paging?: PagingOptions;
  }[] = [
    { name: 'records in descending order', script: { order: 'desc' }, error: /ascending|order/i },
    { name: 'records shuffled', script: { order: 'shuffle' }, error: /ascending|order/i },
    {
      name: 'a full page marked hasNext: false',
      script: { hasNext: (honest, page) => (page === 0 ? false : honest) },
      error: /hasNext/,
    },
    {
      name: 'a full scan page of 500 marked hasNext: false',
      script: { hasNext: (honest, page) => (page === 0 ? false : honest) },
      error: /hasNext: false on page 1, a full page of 500/,
      paging: { mode: 'scan', pageSize: 500, windowMs: 0 },
    },
  ];
  for (const c of cases) {
    it(`${c.name}: fails loudly naming it, and the checkpoint passes nothing undelivered`, async () => {
      const mcas = await startHostileServer(mcasPages({ activities, sourceNowMs: () => T, ...c.script }));
      try {
        const before = la.rows().length;
        const checkpoints = new MemoryCheckpointStore('activities');
        const settings = localStackSettings(mcas.url, la.url);
        const paging = c.paging ? { paging: c.paging } : {};
        await assert.rejects(
          runAgainst({ settings }, checkpoints, {
            clock: new FakeClock(T),
            settleMs: 0,
            initialLookbackMs: 3 * HOUR,
            ...paging,
          }),
          c.error,
        );
        const got = new Set(
          la
            .rows()
            .slice(before)
            .map((row) => row['ActivityId'] as string),
        );
        assertNoGap(checkpoints.history, activities, got);
      } finally {
        await mcas.close();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------

describe('hostile servers: requests that never finish', () => {
  const activities = generateActivities({
    count: 20,
    startCreatedMs: Date.now() - HOUR,
    seed: 1604,
    spanMs: 10 * MINUTE,
  });
  const budgetMs = 800;

  it('an MCAS page that drips one byte at a time ends the run within its time budget', async () => {
    const honest = mcasPages({ activities });
    const mcas = await startHostileServer((request, index) => ({ ...honest(request, index), dripIntervalMs: 20 }));
    const la = await startLogAnalytics();
    try {
      const settings = { ...localStackSettings(mcas.url, la.url), HTTP_TIMEOUT_SECONDS: '1' };
      const checkpoints = new MemoryCheckpointStore('activities');
      const outcome = await within(budgetMs + 1_500, runAgainst({ settings }, checkpoints, { timeBudgetMs: budgetMs }));
      assert.ok(outcome.elapsedMs < budgetMs + 1_000, `took ${outcome.elapsedMs} ms`);
      assertNoGap(checkpoints.history, activities, received(la));
    } finally {
      await mcas.close();
      await la.close();
    }
  });

  it('MCAS headers held back end the run within its time budget, not the HTTP timeout', async () => {
    const honest = mcasPages({ activities });
    const mcas = await startHostileServer((request, index) => ({ ...honest(request, index), headersDelayMs: 5_000 }));
    const la = await startLogAnalytics();
    try {
      const settings = { ...localStackSettings(mcas.url, la.url), HTTP_TIMEOUT_SECONDS: '4' };
      const outcome = await within(
        3_500,
        runAgainst({ settings }, new MemoryCheckpointStore('activities'), { timeBudgetMs: budgetMs }),
      );
      assert.ok(outcome.elapsedMs < budgetMs + 1_000, `took ${outcome.elapsedMs} ms`);
    } finally {
      await mcas.close();
    }
    await la.close();
  });

  it('a Log Analytics answer that drips ends the run within its time budget, and nothing is checkpointed', async () => {
    const mcas = await startHostileServer(mcasPages({ activities }));
    const la = await startHostileServer(() => ({ status: 200, body: ' '.repeat(200), dripIntervalMs: 20 }));
    try {
      const settings = { ...localStackSettings(mcas.url, la.url), HTTP_TIMEOUT_SECONDS: '1' };
      const checkpoints = new MemoryCheckpointStore('activities');
      const outcome = await within(
        budgetMs + 1_500,
        runAgainst({ settings }, checkpoints, { timeBudgetMs: budgetMs, settleMs: 0 }),
      );
      assert.ok(outcome.elapsedMs < budgetMs + 1_000, `took ${outcome.elapsedMs} ms`);
      assert.deepEqual(checkpoints.history, []);
    } finally {
      await mcas.close();
      await la.close();
    }
  });

  it('status returns within its own short deadline when MCAS drips its answer', async () => {
    const mcas = await startHostileServer(() => ({
      status: 200,
      body: { data: [], hasNext: false, total: 0 },
      dripIntervalMs: 100,
    }));
    try {
      const env = { ...localStackSettings(mcas.url, 'http://127.0.0.1:9'), HTTP_TIMEOUT_SECONDS: '1' };
      const options = {
        maxLagMinutes: 60,
        timeoutMs: 500,
        overrides: { checkpoints: new MemoryCheckpointStore('activities') },
      };
      const outcome = await within(
        3_000,
        readStatus({ ...env, CHECKPOINT_STORE: 'file:unused' }, new RecordingLogger(), options),
      );
      assert.ok(outcome.elapsedMs < 1_500, `took ${outcome.elapsedMs} ms`);
      assert.equal(outcome.value?.backlog, undefined);
      assert.match(outcome.value?.backlogError ?? '', /deadline|time/i);
    } finally {
      await mcas.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('hostile MCAS: answers that echo the token', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostile-echo-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const echoes: { name: string; answer: (authorization: string) => { status: number; body: string } }[] = [
    {
      name: 'a 200 that is not JSON and starts with the token',
      answer: (auth) => ({ status: 200, body: `${auth} not allowed` }),
    },
    {
      name: 'a 400 holding the token raw, base64 and URL-encoded',
      answer: (auth) => ({
        status: 400,
        body: `bad: ${auth} / ${Buffer.from(auth.slice(6)).toString('base64')} / ${encodeURIComponent(auth)}`,
      }),
    },
    {
      name: 'a 400 holding a long piece of the token',
      answer: (auth) => ({ status: 400, body: `bad token near "${auth.slice(9, 36)}"` }),
    },
  ];
  for (const [index, echo] of echoes.entries()) {
    it(`${echo.name}: no part of it reaches the error, the log or the stored run report`, async () => {
      const mcas = await startHostileServer((request) => echo.answer(String(request.headers.authorization)));
      const la = await startLogAnalytics();
      const store = join(dir, String(index));
      try {
        const env = { ...localStackSettings(mcas.url, la.url), CHECKPOINT_STORE: `file:${store}` };
        const log = new RecordingLogger();
        const error = await runOnce(env, log).then(
          () => assert.fail('the run should fail'),
          (e: unknown) => e as Error,
        );
        assert.ok(mcas.requests.length > 0);
        assert.match(error.message, /MCAS/);
        assertNoSecret(
          `${error.message} ${String((error as { bodyExcerpt?: string }).bodyExcerpt)}`,
          FAKE_MCAS_TOKEN,
          'the error',
        );
        assertNoSecret(log.text(), FAKE_MCAS_TOKEN, 'the log');
        const report = await new FileCheckpointStore(store, 'activities').loadReport();
        assert.equal(report?.outcome, 'failed');
        assertNoSecret(JSON.stringify(report), FAKE_MCAS_TOKEN, 'the stored run report');
      } finally {
        await mcas.close();
        await la.close();
      }
    });
  }

  it('a token pasted into LOG_ANALYTICS_WORKSPACE_ID is described, not echoed', () => {
    const pasted = '3f9a6c1e0b7d48a2b5e1c9d7f3a6b0e4';
    const settings = {
      ...localStackSettings('http://127.0.0.1:9', 'http://127.0.0.1:9'),
      LOG_ANALYTICS_WORKSPACE_ID: pasted,
    };
    assert.throws(
      () => readConfig({ ...settings, CHECKPOINT_STORE: 'file:x' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /LOG_ANALYTICS_WORKSPACE_ID/.test(error.message) &&
        !error.message.includes(pasted.slice(0, 12)),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('hostile disk: a checkpoint store that cannot be written', () => {
  const activities = generateActivities({
    count: 300,
    startCreatedMs: Date.now() - HOUR,
    seed: 1606,
    spanMs: 20 * MINUTE,
  });
  let dir: string;
  let mcas: HostileServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostile-store-'));
    mcas = await startHostileServer(mcasPages({ activities }));
  });
  after(async () => {
    await mcas.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails before the first post when the blob store is read-only (a read-only SAS)', async () => {
    // Blob storage that lets this SAS read and refuses every write, as Azure does for a SAS without `w`.
    const storage = await startHostileServer((request) =>
      request.method === 'GET' || request.method === 'HEAD'
        ? { status: 404, body: '', headers: { 'x-ms-error-code': 'BlobNotFound' } }
        : { status: 403, body: '', headers: { 'x-ms-error-code': 'AuthorizationPermissionMismatch' } },
    );
    const la = await startLogAnalytics();
    try {
      const checkpoints = BlobCheckpointStore.fromConnectionString(
        `BlobEndpoint=${storage.url}/devstoreaccount1;SharedAccessSignature=sv=2024-08-04&ss=b&srt=sco&sp=rl&sig=fake`,
        'mcas-connector',
        'activities',
        { retryOptions: { maxTries: 1 } },
      );
      const settings = localStackSettings(mcas.url, la.url);
      await assert.rejects(runAgainst({ settings }, checkpoints, { settleMs: 0, maxBatchBytes: 64 * 1024 }), /403/);
      assert.equal(la.requests.length, 0, 'a batch was posted that could never be checkpointed');
      assert.ok(storage.requests.some((request) => request.method === 'PUT'));
    } finally {
      await la.close();
      await storage.close();
    }
  });

  const leftovers: { name: string; content: () => string }[] = [
    { name: 'an empty lock file (a disk that filled up mid-save)', content: () => '' },
    {
      name: 'a lock file of a process that is gone',
      content: () => {
        const gone = spawnSync(process.execPath, ['-e', '']).pid;
        return `${gone}\n${hostname()}\n`;
      },
    },
  ];
  for (const [index, leftover] of leftovers.entries()) {
    it(`takes over ${leftover.name} and delivers everything`, async () => {
      const la = await startLogAnalytics();
      try {
        const store = join(dir, `lock-${index}`);
        await mkdir(store, { recursive: true });
        const lock = join(store, 'activities.json.lock');
        await writeFile(lock, leftover.content());
        const tenSecondsAgo = new Date(Date.now() - 10_000);
        await utimes(lock, tenSecondsAgo, tenSecondsAgo);
        const settings = localStackSettings(mcas.url, la.url);
        const summary: RunSummary = await runAgainst({ settings }, new FileCheckpointStore(store, 'activities'), {
          settleMs: 0,
        });
        assert.equal(summary.sent, activities.length);
        assert.deepEqual([...received(la)].sort(), idsOf(activities).sort());
      } finally {
        await la.close();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------

describe('hostile records: control characters in source data', () => {
  it('escapes a newline and terminal codes in a record _id in every log line', async () => {
    const good = generateActivities({ count: 3, startCreatedMs: Date.now() - HOUR, seed: 1607, spanMs: MINUTE });
    const forged = { ...good[0], _id: 'x\n[info] Run done: fetched 0, sent 0\u001b[2K\r', timestamp: 'not a time' };
    const mcas = await startHostileServer(mcasPages({ activities: [...good, forged] }));
    const la = await startLogAnalytics();
    try {
      const log = new RecordingLogger();
      await runAgainst({ settings: localStackSettings(mcas.url, la.url) }, new MemoryCheckpointStore('activities'), {
        log,
        settleMs: 0,
      });
      assert.match(log.text(), /failed the schema/);
      for (const line of log.lines) {
        assert.doesNotMatch(
          line.message,
          // eslint-disable-next-line no-control-regex -- a log line must hold no control character: this finds them
          /[\u0000-\u001f\u007f-\u009f]/,
          `log line with a control character: ${JSON.stringify(line.message)}`,
        );
      }
    } finally {
      await mcas.close();
      await la.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('hostile settings: filters and streams', () => {
  for (const filters of ['{"__proto__":{"eq":[1]}}', '{"service":{"eq":[11161],"__proto__":{"eq":[1]}}}']) {
    it(`refuses a filter it could not send: ${filters}`, () => {
      const settings = {
        ...localStackSettings('http://127.0.0.1:9', 'http://127.0.0.1:9'),
        CHECKPOINT_STORE: 'file:x',
        MCAS_ACTIVITY_FILTERS: filters,
      };
      assert.throws(
        () => readConfig(settings),
        (error: unknown) => error instanceof ConfigError && /__proto__/.test(error.message),
      );
    });
  }

  it('a backfill posts to the table LOG_TYPE names', async () => {
    const activities = generateActivities({ count: 10, startCreatedMs: T - 3 * HOUR, seed: 1608, spanMs: MINUTE });
    const mcas = await startHostileServer(mcasPages({ activities }));
    const la = await startLogAnalytics();
    const dir = await mkdtemp(join(tmpdir(), 'hostile-backfill-'));
    try {
      const env = { ...localStackSettings(mcas.url, la.url), CHECKPOINT_STORE: `file:${dir}`, LOG_TYPE: 'Other_Table' };
      const result = await runBackfill(env, new RecordingLogger(), {
        fromMs: T - 4 * HOUR,
        toMs: T - HOUR,
        timeBudgetMs: 60_000,
      });
      assert.equal(result.summary?.sent, activities.length);
      assert.deepEqual(
        la.batches.map((batch) => batch.logType),
        la.batches.map(() => 'Other_Table'),
      );
    } finally {
      await mcas.close();
      await la.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
