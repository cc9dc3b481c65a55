// Tests for LogsIngestionSink through the Azure SDK's HTTP pipeline against the loopback Logs Ingestion emulator (HTTPS,
// gzip, bearer token), with a stand-in credential in-process and the real DefaultAzureCredential in a child process.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';

import type { TokenCredential } from '@azure/identity';

import {
  type LogsIngestionEmulatorOptions,
  MAX_CALL_BYTES,
  startLogsIngestionEmulator,
} from '../../emulators/logsIngestionEmulator.js';
import { startManagedIdentityEmulator } from '../../emulators/managedIdentityEmulator.js';
import { loadTestTls } from '../../emulators/testTls.js';
import { CLOUD_PROFILES } from '../../src/cloud.js';
import { HttpStatusError } from '../../src/errors.js';
import { RecordingLogger } from '../../src/logger.js';
import type { Batch } from '../../src/sink/LogSink.js';
import { DEFAULT_STREAM_NAME, LogsIngestionSink, toIngestionCalls } from '../../src/sink/LogsIngestionSink.js';
import { FakeClock } from '../helpers/fakeTime.js';
import { runNodeScript } from '../helpers/processEnv.js';

const DCR = 'dcr-00000000000000000000000000000001';
const ACCESS_TOKEN = 'test-monitor-token-not-a-real-one';

interface Row {
  ActivityId: string;
  ActivityTime?: string;
  CreatedTime?: string;
  Description?: string;
  RawDataJson?: string;
}

function row(i: number, extra: Partial<Row> = {}): Row {
  const ms = Date.UTC(2026, 10, 20, 8, 0, 0) + i * 1000;
  return {
    ActivityId: `a-${i}`,
    ActivityTime: new Date(ms).toISOString(),
    CreatedTime: new Date(ms + 90_000).toISOString(),
    Description: `Jürgen downloaded 山田-${i}.docx`,
    ...extra,
  };
}

function batchOf(rows: readonly object[]): Batch {
  return { body: Buffer.from(JSON.stringify(rows), 'utf8'), recordCount: rows.length };
}

/** A stand-in credential; it records the scopes asked for. */
function fakeCredential(scopes: string[], token = ACCESS_TOKEN): TokenCredential {
  return {
    getToken: (requested) => {
      scopes.push(...(Array.isArray(requested) ? requested : [requested]));
      return Promise.resolve({ token, expiresOnTimestamp: Date.now() + 3_600_000 });
    },
  };
}

async function setUp(
  t: TestContext,
  emulatorOptions: Partial<LogsIngestionEmulatorOptions> = {},
  sinkOptions: { credential?: TokenCredential; audience?: string; streamName?: string } = {},
) {
  const emulator = await startLogsIngestionEmulator({
    expectedToken: ACCESS_TOKEN,
    rules: { [DCR]: [DEFAULT_STREAM_NAME] },
    ...emulatorOptions,
  });
  t.after(() => emulator.close());
  const clock = new FakeClock();
  const log = new RecordingLogger();
  const scopes: string[] = [];
  const sink = new LogsIngestionSink({
    endpoint: emulator.endpoint,
    dcrImmutableId: DCR,
    credential: sinkOptions.credential ?? fakeCredential(scopes),
    clock,
    sleep: clock.sleep,
    log,
    timeoutMs: 10_000,
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 60_000, retryOnStatus: [429, 500, 502, 503, 504] },
    clientOptions: { tlsOptions: { ca: loadTestTls().cert } },
    ...(sinkOptions.audience ? { audience: sinkOptions.audience } : {}),
    ...(sinkOptions.streamName ? { streamName: sinkOptions.streamName } : {}),
  });
  return { emulator, sink, clock, log, scopes };
}

function ids(rows: readonly Record<string, unknown>[]): string[] {
  return rows.map((r) => String(r['ActivityId'])).sort();
}

describe('toIngestionCalls', () => {
  const NOW = '2026-11-23T12:00:00.000Z';
  const rowsOf = (calls: { body: Buffer }[]): unknown[] =>
    calls.flatMap((call) => JSON.parse(call.body.toString('utf8')) as unknown[]);

  it('adds TimeGenerated from ActivityTime, else CreatedTime, else now, and keeps every other field', () => {
    const calls = toIngestionCalls(
      batchOf([
        row(1),
        { ActivityId: 'b', CreatedTime: '2026-11-21T00:00:00.000Z', IsFlagged: true },
        { ActivityId: 'c' },
        // Nested JSON text and a string value that looks like the key are not the key.
        { ActivityId: 'd', RawDataJson: '{"ActivityTime":"1999-01-01T00:00:00.000Z"}', Note: '"ActivityTime":"x"' },
      ]),
      NOW,
      'ActivityTime',
      MAX_CALL_BYTES,
    );
    assert.deepEqual(rowsOf(calls), [
      { TimeGenerated: row(1).ActivityTime, ...row(1) },
      {
        TimeGenerated: '2026-11-21T00:00:00.000Z',
        ActivityId: 'b',
        CreatedTime: '2026-11-21T00:00:00.000Z',
        IsFlagged: true,
      },
      { TimeGenerated: NOW, ActivityId: 'c' },
      {
        TimeGenerated: NOW,
        ActivityId: 'd',
        RawDataJson: '{"ActivityTime":"1999-01-01T00:00:00.000Z"}',
        Note: '"ActivityTime":"x"',
      },
    ]);
    assert.deepEqual(
      calls.map((call) => call.rowCount),
      [4],
    );
  });

  it("takes TimeGenerated from another stream's time field when told", () => {
    const calls = toIngestionCalls(
      batchOf([{ AlertId: 'x', AlertTime: '2026-11-22T10:00:00.000Z', ActivityTime: 'no' }]),
      NOW,
      'AlertTime',
      MAX_CALL_BYTES,
    );
    assert.deepEqual(rowsOf(calls), [
      {
        TimeGenerated: '2026-11-22T10:00:00.000Z',
        AlertId: 'x',
        AlertTime: '2026-11-22T10:00:00.000Z',
        ActivityTime: 'no',
      },
    ]);
  });

  it('cuts calls under the limit at row boundaries, a row too large for any call going alone, every row once', () => {
    const rows = Array.from({ length: 40 }, (_, i) => row(i, { RawDataJson: 'ü'.repeat(i === 7 ? 900 : 40) }));
    const limit = 1_000;
    const calls = toIngestionCalls(batchOf(rows), NOW, 'ActivityTime', limit);
    assert.ok(calls.length > 3);
    for (const call of calls) {
      const parsed = JSON.parse(call.body.toString('utf8')) as unknown[];
      assert.equal(parsed.length, call.rowCount);
      assert.ok(call.body.length <= limit || call.rowCount === 1, `a call of ${call.body.length} bytes`);
    }
    assert.ok(calls.some((call) => call.body.length > limit && call.rowCount === 1));
    assert.deepEqual(
      rowsOf(calls),
      rows.map((r) => ({ TimeGenerated: r.ActivityTime, ...r })),
    );
  });
});

describe('LogsIngestionSink', () => {
  it('posts gzip JSON with the bearer token for the monitor scope, and the 204 rows carry TimeGenerated = ActivityTime', async (t) => {
    const { emulator, sink, scopes } = await setUp(t);
    const rows = [row(1), row(2), row(3)];

    await sink.send(batchOf(rows));

    assert.equal(emulator.requests.length, 1);
    const [request] = emulator.requests;
    assert.deepEqual(
      { ...request, compressedBytes: undefined, uncompressedBytes: undefined },
      {
        method: 'POST',
        dcrId: DCR,
        stream: 'Custom-MCAS_Activity_Log_CL',
        apiVersion: '2023-01-01',
        contentEncoding: 'gzip',
        contentType: 'application/json',
        authorized: true,
        compressedBytes: undefined,
        uncompressedBytes: undefined,
        rowCount: 3,
        status: 204,
      },
    );
    assert.ok(request && request.compressedBytes > 0 && request.compressedBytes < request.uncompressedBytes);
    assert.deepEqual(
      emulator.rows,
      rows.map((r) => ({ TimeGenerated: r.ActivityTime, ...r })),
    );
    assert.ok(scopes.length > 0 && scopes.every((s) => s === 'https://monitor.azure.com/.default'));
  });

  it("asks for the US Government monitor scope when given that cloud's audience", async (t) => {
    const { sink, scopes } = await setUp(t, {}, { audience: CLOUD_PROFILES.usgov.monitorAudience });
    await sink.send(batchOf([row(1)]));
    assert.ok(scopes.length > 0 && scopes.every((s) => s === 'https://monitor.azure.us/.default'));
  });

  it('splits a batch over 1 MB into several gzip posts under the limit, each row accepted exactly once', async (t) => {
    const { emulator, sink } = await setUp(t);
    const rows = Array.from({ length: 2_500 }, (_, i) =>
      row(i, { RawDataJson: JSON.stringify({ pad: 'x'.repeat(900), i }) }),
    );
    const batch = batchOf(rows);
    assert.ok(batch.body.length > 2 * MAX_CALL_BYTES);

    await sink.send(batch);

    assert.ok(emulator.requests.length >= 3, `expected several posts, got ${emulator.requests.length}`);
    for (const request of emulator.requests) {
      assert.equal(request.status, 204);
      assert.equal(request.contentEncoding, 'gzip');
      assert.ok(request.uncompressedBytes <= MAX_CALL_BYTES, `${request.uncompressedBytes} bytes in one post`);
    }
    assert.deepEqual(ids(emulator.rows), ids(rows as unknown as Record<string, unknown>[]));
    assert.ok(emulator.rows.every((r) => r['TimeGenerated'] === r['ActivityTime']));
  });

  it('waits for Retry-After seconds on 429 and then sends the chunk again', async (t) => {
    const { emulator, sink, clock, log } = await setUp(t, {
      faults: (i) =>
        i === 0
          ? {
              status: 429,
              headers: { 'retry-after': '7' },
              body: { error: { code: 'TooManyRequests', message: 'Slow down.' } },
            }
          : undefined,
    });

    await sink.send(batchOf([row(1), row(2)]));

    assert.deepEqual(
      emulator.requests.map((r) => r.status),
      [429, 204],
    );
    assert.deepEqual(clock.sleeps, [7_000]);
    assert.deepEqual(ids(emulator.rows), ['a-1', 'a-2']);
    assert.match(log.text(), /attempt 1 of 3 failed \(Log Analytics 429\); throttled, retrying in 7000 ms/);
  });

  it('retries a 429 without Retry-After with backoff, which the SDK pipeline alone would not do', async (t) => {
    const { emulator, sink, clock } = await setUp(t, { faults: (i) => (i === 0 ? { status: 429 } : undefined) });

    await sink.send(batchOf([row(1)]));

    assert.deepEqual(
      emulator.requests.map((r) => r.status),
      [429, 204],
    );
    assert.equal(clock.sleeps.length, 1);
    assert.ok((clock.sleeps[0] ?? -1) >= 0 && (clock.sleeps[0] ?? Infinity) <= 100);
  });

  it('resends only the rows of a failed chunk, and throws with how many rows failed when it keeps failing', async (t) => {
    const poisoned = (rows: readonly Record<string, unknown>[]) => rows.some((r) => r['ActivityId'] === 'a-1400');
    const { emulator, sink, clock } = await setUp(t, {
      faults: (_i, rows) =>
        poisoned(rows)
          ? { status: 503, body: { error: { code: 'ServiceUnavailable', message: 'Try later.' } } }
          : undefined,
    });
    const rows = Array.from({ length: 1_500 }, (_, i) => row(i, { RawDataJson: 'y'.repeat(900) }));

    const failure = sink.send(batchOf(rows));
    await assert.rejects(failure, HttpStatusError);
    const error = (await failure.catch((e: unknown) => e)) as HttpStatusError;

    const failed = emulator.requests.filter((r) => r.status === 503);
    assert.equal(failed.length, 3, 'the poisoned chunk is tried maxAttempts times');
    const failedRows = failed[0]?.rowCount ?? 0;
    assert.ok(failedRows > 0 && failed.every((r) => r.rowCount === failedRows), 'retries carry only the failed rows');
    assert.equal(
      emulator.requests.filter((r) => r.status === 204).length,
      emulator.requests.length - 3,
      'accepted chunks are not resent',
    );
    assert.equal(emulator.rows.length, 1_500 - failedRows);
    assert.equal(new Set(ids(emulator.rows)).size, emulator.rows.length, 'no row was accepted twice');
    assert.equal(error.status, 503);
    assert.match(
      error.message,
      new RegExp(`${failedRows} of 1500 rows \\(1 chunk\\) were not accepted; none of the batch counts as sent`),
    );
    assert.equal(clock.sleeps.length, 2);
  });

  it('answers 413 for one row over 1 MB, does not retry it, and says it is a bug', async (t) => {
    const { emulator, sink, clock } = await setUp(t);
    const huge = row(2, { RawDataJson: 'z'.repeat(MAX_CALL_BYTES + 50_000) });

    const failure = sink.send(batchOf([row(1), huge, row(3)]));
    await assert.rejects(failure, HttpStatusError);
    const error = (await failure.catch((e: unknown) => e)) as HttpStatusError;

    assert.equal(error.status, 413);
    assert.match(
      error.message,
      /over the 1 MB call limit by itself.*report it\. 1 of 3 rows \(1 chunk\) were not accepted/,
    );
    assert.deepEqual(emulator.requests.map((r) => r.status).sort(), [204, 204, 413]);
    assert.ok(
      (emulator.requests.find((r) => r.status === 413)?.compressedBytes ?? Infinity) < MAX_CALL_BYTES,
      'the gzip body was small; the uncompressed size counts',
    );
    assert.deepEqual(clock.sleeps, []);
    assert.deepEqual(ids(emulator.rows), ['a-1', 'a-3']);
  });

  it('says which settings to check on 404 for a stream the DCR does not declare', async (t) => {
    const { sink } = await setUp(t, {}, { streamName: 'Custom-Other_CL' });
    const failure = sink.send(batchOf([row(1)]));
    await assert.rejects(failure, HttpStatusError);
    const error = (await failure.catch((e: unknown) => e)) as HttpStatusError;
    assert.equal(error.status, 404);
    assert.match(error.message, /LOGS_INGESTION_STREAM/);
    assert.match(error.message, /InvalidStream/);
    assert.equal(error.url, `${new URL(error.url).origin}/dataCollectionRules/${DCR}/streams/Custom-Other_CL`);
  });

  it('fails at once on 401 for a token the service refuses, without quoting the token', async (t) => {
    const refused = 'test-token-for-another-audience';
    const { emulator, sink, clock } = await setUp(t, {}, { credential: fakeCredential([], refused) });
    const failure = sink.send(batchOf([row(1)]));
    await assert.rejects(failure, HttpStatusError);
    const error = (await failure.catch((e: unknown) => e)) as HttpStatusError;
    assert.equal(error.status, 401);
    assert.match(error.message, /managed identity and AZURE_CLOUD/);
    assert.ok(!error.message.includes(refused));
    assert.equal(emulator.requests.length, 1);
    assert.deepEqual(clock.sleeps, []);
  });

  it('reports a credential that cannot get a token, and sends nothing', async (t) => {
    const unavailable: TokenCredential = {
      getToken: () =>
        Promise.reject(
          Object.assign(new Error('ManagedIdentityCredential: no managed identity endpoint found.'), {
            name: 'CredentialUnavailableError',
          }),
        ),
    };
    const { emulator, sink } = await setUp(t, {}, { credential: unavailable });
    await assert.rejects(
      sink.send(batchOf([row(1)])),
      /Could not get a token for the Logs Ingestion API: .*no managed identity endpoint.*Turn on the function's managed identity/,
    );
    assert.equal(emulator.requests.length, 0);
  });

  it('sends nothing when the run was aborted', async (t) => {
    const { emulator, sink } = await setUp(t);
    const controller = new AbortController();
    controller.abort(new Error('run stopped'));
    await assert.rejects(sink.send(batchOf([row(1)]), { signal: controller.signal }), /run stopped/);
    assert.equal(emulator.requests.length, 0);
  });
});

// The production path: DefaultAzureCredential gets the token from the managed identity endpoint, in a fresh process
// whose env holds only that endpoint and the test CA (PATH empty, so no developer login is tried).
const CHILD_SCRIPT = `
const input = JSON.parse(process.argv[1]);
const { DefaultAzureCredential } = await import('@azure/identity');
const { LogsIngestionSink } = await import(input.sinkModule);
const sink = new LogsIngestionSink({
  endpoint: input.endpoint, dcrImmutableId: input.dcr, credential: new DefaultAzureCredential(),
  clock: { nowMs: () => Date.now() }, sleep: async () => {}, log: { info() {}, warn() {}, error() {} }, timeoutMs: 10000,
});
try {
  await sink.send({ body: Buffer.from(JSON.stringify(input.rows)), recordCount: input.rows.length });
  process.stdout.write(JSON.stringify({ ok: true }));
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, message: String(error && error.message) }));
}
`;

describe('LogsIngestionSink with DefaultAzureCredential and a managed identity', () => {
  it('uploads with a token the managed identity issued for https://monitor.azure.com', async (t) => {
    const emulator = await startLogsIngestionEmulator({
      expectedToken: ACCESS_TOKEN,
      rules: { [DCR]: [DEFAULT_STREAM_NAME] },
    });
    t.after(() => emulator.close());
    const identity = await startManagedIdentityEmulator({ token: ACCESS_TOKEN });
    t.after(() => identity.close());
    const input = {
      sinkModule: new URL('../../src/sink/LogsIngestionSink.js', import.meta.url).href,
      endpoint: emulator.endpoint,
      dcr: DCR,
      rows: [row(1), row(2)],
    };
    const { exitCode, stdout, stderr } = await runNodeScript(
      CHILD_SCRIPT,
      input,
      { ...identity.env, NODE_EXTRA_CA_CERTS: loadTestTls().certPath, PATH: '' },
      { cwd: new URL('../../../', import.meta.url).pathname },
    );
    assert.equal(exitCode, 0, stderr);

    assert.deepEqual(JSON.parse(stdout), { ok: true });
    assert.deepEqual(ids(emulator.rows), ['a-1', 'a-2']);
    assert.ok(identity.requests.length > 0);
    assert.ok(identity.requests.every((r) => r.resource === 'https://monitor.azure.com' && r.status === 200));
  });
});
