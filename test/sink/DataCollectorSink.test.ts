import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { HttpStatusError } from '../../src/errors.js';
import { createDispatcher } from '../../src/http.js';
import { RecordingLogger } from '../../src/logger.js';
import { Secret } from '../../src/Secret.js';
import { DataCollectorSink } from '../../src/sink/DataCollectorSink.js';
import { sharedKeyAuthorization } from '../../src/sink/sharedKeyAuthorization.js';
import { FakeClock } from '../helpers/fakeTime.js';
import { type ScriptedAnswer, startScriptedServer } from '../helpers/scriptedServer.js';

const WORKSPACE = '00000000-0000-4000-8000-000000000002';
const KEY = Buffer.from('another-fake-key-only-for-these-tests').toString('base64');
const BODY = Buffer.from('[{"Id":"1","Description":"Jürgen shared 山田.docx 🚀"}]', 'utf8');

const dispatcher = createDispatcher();
after(() => dispatcher.close());

async function sinkAgainst(answers: ScriptedAnswer[]) {
  const server = await startScriptedServer((i) => answers[i] ?? { status: 500 });
  const clock = new FakeClock();
  const log = new RecordingLogger();
  const sink = new DataCollectorSink({
    endpoint: server.url,
    workspaceId: WORKSPACE,
    workspaceKey: new Secret(KEY),
    logType: 'MCAS_Activity_Log',
    timeGeneratedField: 'ActivityTime',
    dispatcher,
    clock,
    sleep: clock.sleep,
    log,
    timeoutMs: 5_000,
    retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 2_000, retryOnStatus: [429, 500, 503] },
  });
  return { server, sink, clock, log };
}

describe('DataCollectorSink', () => {
  it('posts the exact bytes with the documented headers and a signature over their byte length', async (t) => {
    const { server, sink } = await sinkAgainst([{ status: 200 }]);
    t.after(() => server.close());
    await sink.send({ body: BODY, recordCount: 1 });
    const [request] = server.requests;
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/api/logs?api-version=2016-04-01');
    assert.deepEqual(request.body, BODY);
    assert.equal(request.headers['content-length'], String(BODY.length));
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['log-type'], 'MCAS_Activity_Log');
    assert.equal(request.headers['time-generated-field'], 'ActivityTime');
    const date = String(request.headers['x-ms-date']);
    assert.match(date, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    assert.equal(
      request.headers['authorization'],
      sharedKeyAuthorization({
        workspaceId: WORKSPACE,
        keyBytes: Buffer.from(KEY, 'base64'),
        rfc1123Date: date,
        contentLengthBytes: BODY.length,
      }),
    );
  });

  it('re-signs every attempt with a fresh x-ms-date after a 503', async (t) => {
    const { server, sink, clock } = await sinkAgainst([
      { status: 503, headers: { 'retry-after': '2' } },
      { status: 200 },
    ]);
    t.after(() => server.close());
    await sink.send({ body: BODY, recordCount: 1 });
    assert.equal(server.requests.length, 2);
    assert.deepEqual(clock.sleeps, [2_000]);
    const [first, second] = server.requests;
    assert.notEqual(first?.headers['x-ms-date'], second?.headers['x-ms-date']);
    assert.notEqual(first?.headers['authorization'], second?.headers['authorization']);
  });

  it('fails at once on 403 with a message that says what to check and holds no key', async (t) => {
    const { server, sink } = await sinkAgainst([
      {
        status: 403,
        body: { Error: 'InvalidAuthorization', Message: 'An invalid scheme was specified in the Authorization header' },
      },
    ]);
    t.after(() => server.close());
    await assert.rejects(sink.send({ body: BODY, recordCount: 1 }), (error: unknown) => {
      assert.ok(error instanceof HttpStatusError);
      assert.equal(error.status, 403);
      assert.equal(error.service, 'Log Analytics');
      assert.match(error.message, /InvalidAuthorization/);
      assert.match(error.message, /LOG_ANALYTICS_WORKSPACE_ID and the workspace key/);
      assert.doesNotMatch(error.message, new RegExp(KEY.slice(0, 12)));
      return true;
    });
    assert.equal(server.requests.length, 1);
  });

  it('retries a reset connection and then succeeds', async (t) => {
    const { server, sink, log } = await sinkAgainst([{ reset: true }, { status: 200 }]);
    t.after(() => server.close());
    await sink.send({ body: BODY, recordCount: 1 });
    assert.equal(server.requests.length, 2);
    assert.equal(log.lines.filter((l) => l.level === 'warn').length, 1);
  });

  it("gives up after the policy's attempts and reports the last status", async (t) => {
    const { server, sink } = await sinkAgainst([{ status: 500 }, { status: 500 }, { status: 429 }]);
    t.after(() => server.close());
    await assert.rejects(
      sink.send({ body: BODY, recordCount: 1 }),
      (error: unknown) => error instanceof HttpStatusError && error.status === 429,
    );
    assert.equal(server.requests.length, 3);
  });
});

describe('DataCollectorSink with the Data Collector emulator', () => {
  it('splits a batch the service refuses as too large once, and delivers both halves', async (t) => {
    const { startDataCollectorEmulator } = await import('../../emulators/dataCollectorEmulator.js');
    for (const oversizeStatus of [413, 404] as const) {
      const emulator = await startDataCollectorEmulator({
        workspaceId: WORKSPACE,
        sharedKeyBase64: KEY,
        maxBodyBytes: 600,
        oversizeStatus,
      });
      t.after(() => emulator.close());
      const log = new RecordingLogger();
      const sink = realSink(emulator.url, log);
      const rows = Array.from({ length: 8 }, (_, i) => ({ ActivityId: `r${i}`, Description: 'ü'.repeat(40) }));
      const body = Buffer.from(JSON.stringify(rows));
      assert.ok(body.length > 600 && body.length < 1_200);
      await sink.send({ body, recordCount: rows.length });
      assert.deepEqual(
        emulator.rows().map((r) => r['ActivityId']),
        rows.map((r) => r.ActivityId),
      );
      assert.equal(emulator.requests.filter((r) => r.status === oversizeStatus).length, 1);
      assert.match(log.text(), /sending it in two halves/);
    }
  });

  it('fails when a half is still refused, instead of splitting without end', async (t) => {
    const { startDataCollectorEmulator } = await import('../../emulators/dataCollectorEmulator.js');
    const emulator = await startDataCollectorEmulator({
      workspaceId: WORKSPACE,
      sharedKeyBase64: KEY,
      maxBodyBytes: 100,
    });
    t.after(() => emulator.close());
    const sink = realSink(emulator.url, new RecordingLogger());
    const rows = Array.from({ length: 4 }, (_, i) => ({ ActivityId: `r${i}`, Description: 'x'.repeat(80) }));
    await assert.rejects(
      sink.send({ body: Buffer.from(JSON.stringify(rows)), recordCount: 4 }),
      (e: unknown) => e instanceof HttpStatusError && e.status === 413,
    );
    assert.equal(emulator.requests.length, 2);
    assert.equal(emulator.rows().length, 0);
  });

  it('is accepted by a server that checks the signature as Azure does, for a non-ASCII body', async (t) => {
    const { startDataCollectorEmulator } = await import('../../emulators/dataCollectorEmulator.js');
    const emulator = await startDataCollectorEmulator({ workspaceId: WORKSPACE, sharedKeyBase64: KEY });
    t.after(() => emulator.close());
    await realSink(emulator.url, new RecordingLogger()).send({ body: BODY, recordCount: 1 });
    assert.equal(emulator.rows()[0]?.['Description'], 'Jürgen shared 山田.docx 🚀');
  });
});

function realSink(endpoint: string, log: RecordingLogger): DataCollectorSink {
  return new DataCollectorSink({
    endpoint,
    workspaceId: WORKSPACE,
    workspaceKey: new Secret(KEY),
    logType: 'MCAS_Activity_Log',
    timeGeneratedField: 'ActivityTime',
    dispatcher,
    clock: { nowMs: () => Date.now() },
    sleep: async () => {},
    log,
    timeoutMs: 5_000,
  });
}
