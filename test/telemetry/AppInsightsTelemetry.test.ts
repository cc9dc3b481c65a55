// Tests of AppInsightsTelemetry against the loopback ingestion API: envelope shapes, the bearer token, retries and
// the one-warning rule; the connection and authentication string parsers; and the emulator's own answers.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, describe, it } from 'node:test';

import type { AccessToken, TokenCredential } from '@azure/identity';

import { type AppInsightsEmulatorOptions, startAppInsightsEmulator } from '../../emulators/appInsightsEmulator.js';
import { createDispatcher } from '../../src/http.js';
import { RecordingLogger } from '../../src/logger.js';
import {
  AppInsightsTelemetry,
  DEFAULT_INGESTION_ENDPOINT,
  INGESTION_SCOPE,
  parseAuthenticationString,
  parseConnectionString,
} from '../../src/telemetry/AppInsightsTelemetry.js';
import type { RunReport } from '../../src/telemetry/RunReport.js';
import { FakeClock } from '../helpers/fakeTime.js';

const IKEY = '11111111-2222-4333-8444-555555555555';
const OTHER_IKEY = '99999999-8888-4777-8666-555555555555';
const CLIENT_ID = '00000000-0000-4000-8000-0000000000c1';
const TOKEN = 'fake-entra-token-for-tests-only';

const REPORT: RunReport = {
  stream: 'activities',
  outcome: 'succeeded',
  startedAt: '2026-11-23T11:58:00.000Z',
  durationMs: 93_512,
  fetched: 420,
  sent: 418,
  flagged: 2,
  batches: 3,
  pages: 5,
  retries: 1,
  throttled: 1,
  throttleWaitMs: 60_000,
  lagMinutes: 7.5,
  moreToDo: false,
  checkpoint: '2026-11-23T11:52:30.123Z',
};

const dispatcher = createDispatcher();
after(() => dispatcher.close());

/** An in-process TokenCredential that records the scopes it was asked for. */
class FakeCredential implements TokenCredential {
  readonly scopes: (string | string[])[] = [];
  constructor(private readonly outcome: string | Error = TOKEN) {}
  getToken(scopes: string | string[]): Promise<AccessToken | null> {
    this.scopes.push(scopes);
    if (this.outcome instanceof Error) return Promise.reject(this.outcome);
    return Promise.resolve({ token: this.outcome, expiresOnTimestamp: Date.now() + 3_600_000 });
  }
}

function telemetryFor(endpoint: string, extra: { credential?: TokenCredential; ikey?: string } = {}) {
  const clock = new FakeClock();
  const log = new RecordingLogger();
  const telemetry = new AppInsightsTelemetry({
    connectionString: `InstrumentationKey=${extra.ikey ?? IKEY};IngestionEndpoint=${endpoint}/;LiveEndpoint=https://live.example.test/`,
    credential: extra.credential,
    dispatcher,
    clock,
    sleep: clock.sleep,
    log,
    timeoutMs: 5_000,
    roleName: 'mcas-connector-test',
  });
  return { telemetry, clock, log };
}

async function emulatorFor(t: { after(fn: () => Promise<void>): void }, options: AppInsightsEmulatorOptions = {}) {
  const emulator = await startAppInsightsEmulator({ instrumentationKey: IKEY, ...options });
  t.after(() => emulator.close());
  return emulator;
}

function warnings(log: RecordingLogger): string[] {
  return log.lines.filter((l) => l.level === 'warn').map((l) => l.message);
}

/** The report's warning must hold neither the instrumentation key nor the token. */
function assertCleanLog(log: RecordingLogger): void {
  assert.doesNotMatch(log.text(), new RegExp(IKEY));
  assert.doesNotMatch(log.text(), new RegExp(TOKEN));
}

describe('AppInsightsTelemetry', () => {
  it('sends one McasConnectorRun event and two metrics whose fields carry the report', async (t) => {
    const emulator = await emulatorFor(t);
    const { telemetry, clock, log } = telemetryFor(emulator.url);
    await telemetry.trackRun({
      ...REPORT,
      outcome: 'failed',
      moreToDo: true,
      error: 'HttpStatusError: MCAS answered 401',
    });

    assert.equal(emulator.requests.length, 1);
    assert.equal(emulator.requests[0]?.path, '/v2.1/track');
    assert.equal(emulator.requests[0].headers['content-type'], 'application/json');
    assert.equal(emulator.requests[0].status, 200);
    const tags = {
      'ai.cloud.role': 'mcas-connector-test',
      'ai.cloud.roleInstance': hostname(),
      'ai.internal.sdkVersion': 'mcas-activity-connector:0.1.0',
    };
    const time = new Date(clock.nowMs()).toISOString();
    const [event, lag, sent, extra] = emulator.envelopes;
    assert.equal(extra, undefined);
    assert.deepEqual(event, {
      name: 'Microsoft.ApplicationInsights.Event',
      time,
      iKey: IKEY,
      sampleRate: 100,
      tags,
      data: {
        baseType: 'EventData',
        baseData: {
          ver: 2,
          name: 'McasConnectorRun',
          properties: {
            stream: 'activities',
            outcome: 'failed',
            moreToDo: 'true',
            checkpoint: '2026-11-23T11:52:30.123Z',
            startedAt: '2026-11-23T11:58:00.000Z',
            error: 'HttpStatusError: MCAS answered 401',
          },
          measurements: {
            fetched: 420,
            sent: 418,
            flagged: 2,
            batches: 3,
            pages: 5,
            retries: 1,
            throttled: 1,
            throttleWaitMs: 60_000,
            durationMs: 93_512,
            lagMinutes: 7.5,
          },
        },
      },
    });
    const metric = (name: string, value: number) => ({
      name: 'Microsoft.ApplicationInsights.Metric',
      time,
      iKey: IKEY,
      sampleRate: 100,
      tags,
      data: {
        baseType: 'MetricData',
        baseData: {
          ver: 2,
          metrics: [{ name, kind: 'Aggregation', value, count: 1, min: value, max: value, stdDev: 0 }],
          properties: { stream: 'activities' },
        },
      },
    });
    assert.deepEqual(lag, metric('McasLagMinutes', 7.5));
    assert.deepEqual(sent, metric('McasRecordsSent', 418));
    assert.deepEqual(log.lines, []);
  });

  it('leaves the error property out of a successful run and drops measurements that are not finite numbers', async (t) => {
    const emulator = await emulatorFor(t);
    const { telemetry } = telemetryFor(emulator.url);
    await telemetry.trackRun({ ...REPORT, lagMinutes: Number.NaN });
    const [event] = emulator.ofType('EventData');
    const baseData = event?.data?.baseData as {
      properties: Record<string, string>;
      measurements: Record<string, number>;
    };
    assert.equal('error' in baseData.properties, false);
    assert.equal('lagMinutes' in baseData.measurements, false);
    assert.deepEqual(
      emulator.ofType('MetricData').map((e) => (e.data?.baseData as { metrics: { name: string }[] }).metrics[0]?.name),
      ['McasRecordsSent'],
    );
  });

  it('gets a token for the monitor scope and sends it as a bearer token when given a credential', async (t) => {
    const emulator = await emulatorFor(t, { bearerToken: TOKEN });
    const credential = new FakeCredential();
    const { telemetry, log } = telemetryFor(emulator.url, { credential });
    await telemetry.trackRun(REPORT);
    assert.deepEqual(credential.scopes, [INGESTION_SCOPE]);
    assert.equal(INGESTION_SCOPE, 'https://monitor.azure.com//.default');
    assert.equal(emulator.requests[0]?.headers['authorization'], `Bearer ${TOKEN}`);
    assert.equal(emulator.envelopes.length, 3);
    assert.deepEqual(warnings(log), []);
  });

  it('sends no Authorization header without a credential, and a component that needs Entra auth costs one warning', async (t) => {
    const emulator = await emulatorFor(t, { bearerToken: TOKEN });
    const { telemetry, log } = telemetryFor(emulator.url);
    await telemetry.trackRun(REPORT);
    assert.equal(emulator.requests.length, 1);
    assert.equal(emulator.requests[0]?.headers['authorization'], undefined);
    assert.equal(emulator.requests[0]?.status, 401);
    const [warning, ...more] = warnings(log);
    assert.deepEqual(more, []);
    assert.match(warning ?? '', /status 401.*APPLICATIONINSIGHTS_AUTHENTICATION_STRING/);
    assertCleanLog(log);
  });

  it('names the missing role when the service refuses the identity with 403', async (t) => {
    const emulator = await emulatorFor(t, { bearerToken: 'another-token' });
    const { telemetry, log } = telemetryFor(emulator.url, { credential: new FakeCredential() });
    await telemetry.trackRun(REPORT);
    assert.equal(emulator.requests.length, 1);
    assert.deepEqual(warnings(log).length, 1);
    assert.match(log.text(), /status 403.*Monitoring Metrics Publisher/);
    assertCleanLog(log);
  });

  it('keeps the token and the instrumentation key out of the warning even when the service echoes them', async (t) => {
    const echo = {
      itemsReceived: 3,
      itemsAccepted: 0,
      errors: [{ index: 0, statusCode: 400, message: `${TOKEN} ${IKEY}` }],
    };
    const emulator = await emulatorFor(t, { faults: () => ({ status: 400, body: echo }) });
    const { telemetry, log } = telemetryFor(emulator.url, { credential: new FakeCredential() });
    await telemetry.trackRun(REPORT);
    assert.equal(emulator.requests[0]?.headers['authorization'], `Bearer ${TOKEN}`);
    assert.match(warnings(log)[0] ?? '', /status 400.*\[redacted\] \[redacted\]/);
    assertCleanLog(log);
  });

  it('retries a 503 after its Retry-After and then delivers, with no warning', async (t) => {
    const emulator = await emulatorFor(t, {
      faults: (i) => (i === 0 ? { status: 503, headers: { 'retry-after': '1' } } : undefined),
    });
    const { telemetry, clock, log } = telemetryFor(emulator.url);
    await telemetry.trackRun(REPORT);
    assert.deepEqual(
      emulator.requests.map((r) => r.status),
      [503, 200],
    );
    assert.deepEqual(clock.sleeps, [1_000]);
    assert.equal(emulator.envelopes.length, 3);
    assert.deepEqual(warnings(log), []);
    assert.match(log.text(), /info: Application Insights run report: attempt 1 of 3 failed/);
  });

  it('retries a reset connection', async (t) => {
    const emulator = await emulatorFor(t, { faults: (i) => (i === 0 ? { kind: 'reset' } : undefined) });
    const { telemetry, log } = telemetryFor(emulator.url);
    await telemetry.trackRun(REPORT);
    assert.equal(emulator.envelopes.length, 3);
    assert.deepEqual(warnings(log), []);
  });

  it('does not wait out a Retry-After longer than its budget: one warning, and trackRun resolves', async (t) => {
    const emulator = await emulatorFor(t, { faults: () => ({ status: 429, headers: { 'retry-after': '120' } }) });
    const { telemetry, clock, log } = telemetryFor(emulator.url);
    await telemetry.trackRun(REPORT);
    assert.deepEqual(clock.sleeps, []);
    assert.equal(emulator.requests.length, 1);
    assert.equal(warnings(log).length, 1);
    assert.match(warnings(log)[0] ?? '', /status 429/);
  });

  it('on a 400 (an instrumentation key of no component) logs one warning without the key, and resolves', async (t) => {
    const emulator = await startAppInsightsEmulator({ instrumentationKey: OTHER_IKEY });
    t.after(() => emulator.close());
    const { telemetry, log } = telemetryFor(emulator.url);
    await telemetry.trackRun(REPORT);
    assert.deepEqual(
      emulator.requests.map((r) => r.status),
      [400],
    );
    const [warning, ...more] = warnings(log);
    assert.deepEqual(more, []);
    assert.match(warning ?? '', /run report of activities: status 400.*Invalid instrumentation key/);
    assertCleanLog(log);
  });

  it('on an endpoint of this machine that refuses the connection, logs one warning at once and resolves', async () => {
    const emulator = await startAppInsightsEmulator();
    const url = emulator.url;
    await emulator.close();
    const { telemetry, clock, log } = telemetryFor(url);
    await telemetry.trackRun(REPORT);
    // Nothing listens on that loopback port, and waiting will not start it: no retry.
    assert.equal(clock.sleeps.length, 0);
    assert.deepEqual(warnings(log), [
      'Application Insights did not take the run report of activities: network error ECONNREFUSED.',
    ]);
  });

  it('logs one warning and sends nothing when the credential cannot give a token', async (t) => {
    const emulator = await emulatorFor(t);
    const credential = new FakeCredential(
      Object.assign(new Error('ManagedIdentityCredential: no identity endpoint\nmore'), {
        name: 'CredentialUnavailableError',
      }),
    );
    const { telemetry, log } = telemetryFor(emulator.url, { credential });
    await telemetry.trackRun(REPORT);
    assert.equal(emulator.requests.length, 0);
    assert.deepEqual(warnings(log), [
      'Application Insights did not take the run report of activities: no Entra token for Application Insights ' +
        '(CredentialUnavailableError: ManagedIdentityCredential: no identity endpoint).',
    ]);
  });

  it('warns once when the service accepts only part of the items', async (t) => {
    const partial = {
      itemsReceived: 3,
      itemsAccepted: 2,
      errors: [{ index: 1, statusCode: 400, message: `Bad metric for ${IKEY}` }],
    };
    const emulator = await emulatorFor(t, { faults: () => ({ status: 206, body: partial }) });
    const { telemetry, log } = telemetryFor(emulator.url);
    await telemetry.trackRun(REPORT);
    assert.deepEqual(warnings(log), [
      'Application Insights refused part of the run report of activities: accepted 2 of 3 items; item 1: 400 Bad metric for [redacted].',
    ]);
  });

  it('refuses a malformed connection string when constructed', () => {
    assert.throws(() => telemetryFor('not a url'), /IngestionEndpoint is not a URL/);
  });
});

describe('parseConnectionString', () => {
  it('reads the key and the ingestion endpoint, keys in any case, without a trailing slash', () => {
    assert.deepEqual(
      parseConnectionString(
        `instrumentationkey=${IKEY};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;` +
          'LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/;ApplicationId=abc;',
      ),
      { instrumentationKey: IKEY, ingestionEndpoint: 'https://westeurope-5.in.applicationinsights.azure.com' },
    );
  });

  it('defaults the endpoint to the global one, or builds it from EndpointSuffix and Location', () => {
    assert.equal(parseConnectionString(`InstrumentationKey=${IKEY}`).ingestionEndpoint, DEFAULT_INGESTION_ENDPOINT);
    assert.equal(DEFAULT_INGESTION_ENDPOINT, 'https://dc.services.visualstudio.com');
    assert.deepEqual(
      parseConnectionString(
        `InstrumentationKey=${IKEY};EndpointSuffix=applicationinsights.us;Location=usgovvirginia;AADAudience=https://monitor.azure.us/`,
      ),
      {
        instrumentationKey: IKEY,
        ingestionEndpoint: 'https://usgovvirginia.dc.applicationinsights.us',
        aadAudience: 'https://monitor.azure.us/',
      },
    );
  });

  it('refuses a string without an instrumentation key, naming what is missing', () => {
    assert.throws(
      () => parseConnectionString('IngestionEndpoint=https://dc.example.test/'),
      /has no InstrumentationKey/,
    );
    assert.throws(() => parseConnectionString('InstrumentationKey=not-a-guid'), /InstrumentationKey is not a GUID/);
  });

  it('refuses garbage and plain-http endpoints without quoting them', () => {
    for (const [value, pattern] of [
      ['just some text', /malformed/],
      ['', /empty/],
      [`InstrumentationKey=${IKEY};IngestionEndpoint=http://dc.example.test/`, /must use https/],
      [`InstrumentationKey=${IKEY};IngestionEndpoint=https://dc.example.test/?sig=x`, /query/],
    ] as const) {
      assert.throws(
        () => parseConnectionString(value),
        (error: unknown) => {
          assert.ok(error instanceof Error);
          assert.match(error.message, pattern);
          assert.doesNotMatch(error.message, /just some text|dc\.example\.test|sig=x/);
          return true;
        },
      );
    }
  });
});

describe('parseAuthenticationString', () => {
  it('reads the client id in either order and any case', () => {
    assert.deepEqual(parseAuthenticationString(`Authorization=AAD;ClientId=${CLIENT_ID}`), { clientId: CLIENT_ID });
    assert.deepEqual(parseAuthenticationString(`ClientId=${CLIENT_ID};Authorization=AAD`), { clientId: CLIENT_ID });
    assert.deepEqual(parseAuthenticationString('authorization=aad'), {});
  });

  it('returns undefined when nothing is set', () => {
    assert.equal(parseAuthenticationString(undefined), undefined);
    assert.equal(parseAuthenticationString('  '), undefined);
  });

  it('refuses anything but AAD, and a client id that is not a GUID', () => {
    assert.throws(() => parseAuthenticationString('Authorization=ikey'), /expected Authorization=AAD/);
    assert.throws(() => parseAuthenticationString(`ClientId=${CLIENT_ID}`), /expected Authorization=AAD/);
    assert.throws(() => parseAuthenticationString('Authorization=AAD;ClientId=my-app'), /ClientId is not a GUID/);
    assert.throws(() => parseAuthenticationString('AAD'), /malformed/);
  });
});

describe('the Application Insights emulator', () => {
  async function post(url: string, body: string, headers: Record<string, string> = {}) {
    const response = await dispatcher.request({
      origin: url,
      path: '/v2.1/track',
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return {
      status: response.statusCode,
      body: (await response.body.json()) as {
        itemsReceived: number;
        itemsAccepted: number;
        errors: { index: number; statusCode: number; message: string }[];
      },
    };
  }
  const envelope = {
    name: 'Microsoft.ApplicationInsights.Event',
    time: '2026-11-23T12:00:00.000Z',
    iKey: IKEY,
    data: { baseType: 'EventData', baseData: { ver: 2, name: 'x' } },
  };

  it('answers 400 to a body that is not a JSON array', async (t) => {
    const emulator = await emulatorFor(t);
    assert.equal((await post(emulator.url, JSON.stringify(envelope))).status, 400);
    assert.equal((await post(emulator.url, 'not json')).status, 400);
    assert.equal(emulator.envelopes.length, 0);
  });

  it('answers 400 when every envelope lacks iKey, name or time, and 206 when only some do', async (t) => {
    const emulator = await emulatorFor(t);
    const { name, time, iKey, data } = envelope;
    const noKey = { name, time, data };
    const noTime = { name, iKey, data };
    const refused = await post(emulator.url, JSON.stringify([noKey, noTime, { ...envelope, name: '' }]));
    assert.equal(refused.status, 400);
    assert.deepEqual(
      refused.body.errors.map((e) => [e.index, e.statusCode]),
      [
        [0, 400],
        [1, 400],
        [2, 400],
      ],
    );
    assert.match(refused.body.errors[1]?.message ?? '', /'time'/);
    const partial = await post(emulator.url, JSON.stringify([envelope, noTime]));
    assert.equal(partial.status, 206);
    assert.deepEqual(
      { ...partial.body, errors: partial.body.errors.length },
      { itemsReceived: 2, itemsAccepted: 1, errors: 1 },
    );
    assert.equal(emulator.envelopes.length, 1);
  });

  it('requires the bearer token when told to: 401 without one, 200 with it', async (t) => {
    const emulator = await emulatorFor(t, { bearerToken: TOKEN });
    assert.equal((await post(emulator.url, JSON.stringify([envelope]))).status, 401);
    const accepted = await post(emulator.url, JSON.stringify([envelope]), { authorization: `Bearer ${TOKEN}` });
    assert.deepEqual([accepted.status, accepted.body], [200, { itemsReceived: 1, itemsAccepted: 1, errors: [] }]);
  });
});
