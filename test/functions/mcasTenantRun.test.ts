// Many tenants end to end: the timer (in the library's test mode) enqueues one run per tenant on a real queue in
// Azurite, a stand-in for the Functions host's queue trigger runs the queue function over it as host.json says, and
// each tenant's MCAS and workspace are loopback emulators of their own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import azureFunctions from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';

import { generateActivities } from '../../emulators/activityGenerator.js';
import { type Azurite, startAzurite } from '../../emulators/azurite.js';
import { BlobCheckpointStore } from '../../src/checkpoint/BlobCheckpointStore.js';
import { sleep as realSleep } from '../../src/clock.js';
import { readConfig } from '../../src/config.js';
import { mcasActivityTimer } from '../../src/functions/mcasActivityTimer.js';
import { mcasAlertTimer } from '../../src/functions/mcasAlertTimer.js';
import { mcasTenantRun } from '../../src/functions/mcasTenantRun.js';
import { handleTenantMessage } from '../../src/tenants/handleTenantMessage.js';
import { acquireTenantLock } from '../../src/tenants/TenantLock.js';
import { encodeTenantMessage, parseTenantMessage } from '../../src/tenants/tenantQueue.js';
import { timer, withEnv } from '../helpers/processEnv.js';
import { drainQueue, hostQueueSettings } from '../helpers/queueHost.js';
import {
  closeTenantStacks,
  startTenantStacks,
  type TenantStack,
  tenantSecretSettings,
} from '../helpers/tenantStacks.js';

const { InvocationContext } = azureFunctions;
const THROTTLED = {
  status: 429,
  body: { detail: 'Request was throttled. Expected available in 1 seconds.' },
  headers: { 'retry-after': '1' },
};
const CONTAINER = 'tenants-e2e';
const QUEUE = 'tenant-runs-e2e';

function recordingContext(functionName: string) {
  const lines: { level: string; text: string }[] = [];
  const context = new InvocationContext({
    functionName,
    logHandler: (level, ...args) => lines.push({ level, text: args.map(String).join(' ') }),
  });
  return { context, lines };
}

/** Every retry and throttle wait of the runs, 20 times shorter: a 1 s throttle wait takes 50 ms. */
const fastSleep = (ms: number, signal?: AbortSignal) => realSleep(ms / 20, signal);

describe('many tenants through the queue (timer fan-out, queue function, poison queue)', () => {
  // Unset (empty) until before() has started them, and still so in after() when starting them failed.
  let azurite: Azurite | undefined;
  let stacks: TenantStack[] = [];
  let settings: Record<string, string>;
  const azuriteConnectionString = (): string => {
    assert.ok(azurite, 'Azurite is running');
    return azurite.connectionString;
  };
  const byKey = (key: string): TenantStack => stacks.find((s) => s.key === key) as TenantStack;

  before(async () => {
    const nowMs = Date.now();
    // One after the other, so that the after hook can close whatever started if the other fails.
    stacks = await startTenantStacks(
      [
        { key: 'alpha', count: 300 },
        { key: 'bravo', count: 150 },
        { key: 'charlie', count: 220 },
        // Throttles hard: three requests of every four are answered 429 (throttled, Retry-After 1 s).
        { key: 'delta', count: 260, mcas: { faults: (i) => (i % 4 === 3 ? undefined : THROTTLED) } },
        // Always fails: the token in the registry's secret is not the one MCAS accepts.
        { key: 'echo', count: 100, registryToken: 'fake-mcas-token-revoked-long-ago' },
      ],
      nowMs,
    );
    azurite = await startAzurite({ queue: true });
    const registry = {
      tenants: [
        ...stacks.map((s) => s.entry),
        // Invalid: it must be reported and left out, and must stop no other tenant.
        { ...stacks[0]?.entry, key: 'foxtrot', sink: { kind: 'dataCollector', workspaceId: 'not-a-guid' } },
      ],
    };
    const container = (await import('@azure/storage-blob')).BlobServiceClient.fromConnectionString(
      azurite.connectionString,
    ).getContainerClient(CONTAINER);
    await container.createIfNotExists();
    const body = JSON.stringify(registry);
    await container.getBlockBlobClient('tenants.json').upload(body, Buffer.byteLength(body));
    settings = {
      AzureWebJobsStorage: azurite.connectionString,
      TENANT_REGISTRY: `blob:${CONTAINER}/tenants.json`,
      TENANT_QUEUE_NAME: QUEUE,
      CHECKPOINT_CONTAINER: CONTAINER,
      CREATED_SETTLE_SECONDS: '0',
      MCAS_MAX_REQUESTS_PER_MINUTE: '1000000',
      MCAS_THROTTLE_WAIT_SECONDS: '1',
      ...tenantSecretSettings(stacks),
    };
  });
  after(async () => {
    await Promise.all([azurite?.close(), closeTenantStacks(stacks)]);
  });

  const queues = () => {
    const service = QueueServiceClient.fromConnectionString(azuriteConnectionString());
    return { queue: service.getQueueClient(QUEUE), poison: service.getQueueClient(`${QUEUE}-poison`) };
  };
  const handler = (message: unknown, context: azureFunctions.InvocationContext) =>
    handleTenantMessage(message, context, { env: settings, overrides: { sleep: fastSleep } });
  const store = (key: string) =>
    BlobCheckpointStore.fromConnectionString(azuriteConnectionString(), CONTAINER, `tenant-${key}`);
  const rowIds = (stack: TenantStack) => stack.logAnalytics.rows().map((r) => r['ActivityId'] as string);

  it('delivers every healthy tenant exactly once, to its own workspace, and poisons the one that always fails', async () => {
    const { context: timerContext, lines: timerLines } = recordingContext('mcasActivityTimer');
    await withEnv(settings, () => mcasActivityTimer(timer(), timerContext));
    assert.ok(
      timerLines.some((l) => l.level === 'error' && /tenant foxtrot: sink\.workspaceId: /.test(l.text)),
      'the invalid entry is reported by key and field',
    );
    assert.ok(timerLines.some((l) => /Enqueued 5 tenant runs/.test(l.text)));

    const { queue, poison } = queues();
    const first = await drainQueue(queue, poison, handler);
    const { maxDequeueCount } = hostQueueSettings();
    const echoRuns = first.invocations.filter((i) => (i.message as { tenant: string }).tenant === 'echo');
    assert.deepEqual(
      echoRuns.map((i) => [i.dequeueCount, i.outcome]),
      Array.from({ length: maxDequeueCount }, (_, n) => [n + 1, n + 1 === maxDequeueCount ? 'poisoned' : 'failed']),
    );
    assert.equal(first.invocations.filter((i) => i.outcome === 'succeeded').length, 4);
    assert.ok(first.maxConcurrent >= 5, `all five ran at once (at most ${first.maxConcurrent})`);

    // A second tick, after alpha saved five more: only those are sent, once.
    const late = generateActivities({ count: 5, startCreatedMs: Date.now() - 1, seed: 9, spanMs: 1 }).map((a, i) => ({
      ...a,
      _id: `alpha-late-${i}`,
    }));
    byKey('alpha').mcas.addActivities(late);
    byKey('alpha').activities.push(...late);
    await withEnv(settings, () => mcasActivityTimer(timer(), recordingContext('mcasActivityTimer').context));
    await drainQueue(queue, poison, handler);

    for (const key of ['alpha', 'bravo', 'charlie', 'delta']) {
      const stack = byKey(key);
      const ids = rowIds(stack);
      assert.equal(ids.length, stack.activities.length, `${key}: every activity once, no duplicate`);
      assert.deepEqual(new Set(ids), new Set(stack.activities.map((a) => a['_id'])), `${key}: its own activities`);
      const stored = await store(key).load();
      assert.ok(
        stored && stored.checkpoint.cursor === stored.checkpoint.windowEnd + 1,
        `${key}: checkpoint at the end`,
      );
      const report = await store(key).loadReport();
      assert.equal(report?.tenant, key);
      assert.equal(report.outcome, 'succeeded');
    }
    const deltaReport = await store('delta').loadReport();
    assert.ok(deltaReport && deltaReport.throttled >= 3, 'delta was throttled, and waited each time');

    // The failing tenant: nothing sent, no checkpoint, a failed report with the reason, its messages in the poison queue.
    assert.equal(byKey('echo').logAnalytics.requests.length, 0);
    assert.equal(await store('echo').load(), undefined);
    const echoReport = await store('echo').loadReport();
    assert.equal(echoReport?.tenant, 'echo');
    assert.equal(echoReport.outcome, 'failed');
    assert.match(echoReport.error ?? '', /MCAS answered 401/);
    const poisoned = await poison.peekMessages({ numberOfMessages: 32 });
    assert.deepEqual(
      poisoned.peekedMessageItems.map(
        (m) => parseTenantMessage(Buffer.from(m.messageText, 'base64').toString('utf8')).tenant,
      ),
      ['echo', 'echo'],
    );
    assert.equal(await store('foxtrot').loadReport(), undefined, 'the invalid entry never ran');
  });

  it("keeps every tenant's secrets and rows to that tenant's own services", () => {
    for (const stack of stacks) {
      assert.ok(stack.mcas.requests.length > 0, `${stack.key}: MCAS was asked`);
      for (const request of stack.mcas.requests) {
        assert.equal(request.headers['authorization'], `Token ${stack.token}`, `${stack.key}: only its own token`);
      }
      for (const request of stack.logAnalytics.requests) {
        assert.match(request.headers['authorization'] ?? '', new RegExp(`^SharedKey ${stack.workspaceId}:`));
        assert.equal(request.status, 200, `${stack.key}: signed with its own workspace key`);
      }
      const others = stacks.filter((s) => s !== stack);
      const seen = JSON.stringify([...stack.mcas.requests, ...stack.logAnalytics.requests].map((r) => r.headers));
      for (const other of others) assert.ok(!seen.includes(other.token), `${other.key}'s token reached ${stack.key}`);
      assert.ok(
        rowIds(stack).every((id) => id.startsWith(`${stack.key}-`)),
        `${stack.key}: no other tenant's rows`,
      );
    }
  });

  it('does not fetch anything for a tenant whose lock another run holds, and runs it once the lock is free', async (t) => {
    const bravo = byKey('bravo');
    bravo.mcas.addActivities(
      generateActivities({ count: 3, startCreatedMs: Date.now() - 1, seed: 4, spanMs: 1 }).map((a, i) => ({
        ...a,
        _id: `bravo-locked-${i}`,
      })),
    );
    const config = readConfig({
      ...settings,
      MCAS_PORTAL_URL: bravo.mcas.url,
      MCAS_API_TOKEN: 't',
      LOG_ANALYTICS_WORKSPACE_ID: bravo.workspaceId,
      LOG_ANALYTICS_WORKSPACE_KEY: bravo.workspaceKey,
    });
    const lock = await acquireTenantLock(config.checkpoint, 'tenant-bravo', () => Promise.reject(new Error('unused')), {
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    assert.ok(lock);
    const requestsBefore = bravo.mcas.requests.length;
    const rowsBefore = rowIds(bravo).length;
    const message: unknown = JSON.parse(
      Buffer.from(encodeTenantMessage({ tenant: 'bravo' }), 'base64').toString('utf8'),
    );
    const held = recordingContext('mcasTenantRun');
    await withEnv(settings, () => mcasTenantRun(message, held.context));
    assert.equal(bravo.mcas.requests.length, requestsBefore, 'no MCAS request while another run holds the tenant');
    assert.ok(held.lines.some((l) => l.level === 'warning' && /lock is held/.test(l.text)));

    await lock.release();
    // This run also reports to Application Insights: its event names the tenant.
    const { startAppInsightsEmulator } = await import('../../emulators/appInsightsEmulator.js');
    const insights = await startAppInsightsEmulator({ instrumentationKey: '00000000-0000-4000-8000-0000000000b2' });
    t.after(() => insights.close());
    const connectionString = `InstrumentationKey=00000000-0000-4000-8000-0000000000b2;IngestionEndpoint=${insights.url}/`;
    await withEnv({ ...settings, APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString }, () =>
      mcasTenantRun(message, recordingContext('mcasTenantRun').context),
    );
    assert.equal(rowIds(bravo).length, rowsBefore + 3);
    const [event] = insights.ofType('EventData');
    const properties = (event?.data as { baseData: { properties: Record<string, string> } }).baseData.properties;
    assert.equal(properties['tenant'], 'bravo');
    assert.equal(properties['outcome'], 'succeeded');
  });

  it('leaves the alerts timer idle in multi-tenant mode instead of failing on settings that name no tenant', async () => {
    const before = stacks.map((s) => s.mcas.requests.length);
    await withEnv({ ...settings, MCAS_ALERTS_ENABLED: 'true' }, () =>
      mcasAlertTimer(timer(), recordingContext('mcasAlertTimer').context),
    );
    assert.deepEqual(
      stacks.map((s) => s.mcas.requests.length),
      before,
    );
  });
});
