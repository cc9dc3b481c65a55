import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import azureFunctions from '@azure/functions';

import { generateActivities } from '../../emulators/activityGenerator.js';
import { type Azurite, startAzurite } from '../../emulators/azurite.js';
import { FAKE_MCAS_TOKEN, FAKE_WORKSPACE_KEY, type LocalStack, startLocalStack } from '../../emulators/localStack.js';
import { BlobCheckpointStore } from '../../src/checkpoint/BlobCheckpointStore.js';
import { ConfigError } from '../../src/errors.js';
import { mcasActivityTimer } from '../../src/functions/mcasActivityTimer.js';
import { timer, withEnv } from '../helpers/processEnv.js';

const { InvocationContext } = azureFunctions;

function recordingContext() {
  const lines: { level: string; text: string }[] = [];
  const context = new InvocationContext({
    functionName: 'mcasActivityTimer',
    logHandler: (level, ...args) => lines.push({ level, text: args.map(String).join(' ') }),
  });
  return { context, lines };
}

describe("mcasActivityTimer (the registered function, in the library's test mode)", () => {
  const activities = generateActivities({
    count: 450,
    startCreatedMs: Date.now() - 3 * 3600_000,
    seed: 77,
    spanMs: 2 * 3600_000,
  });
  let stack: LocalStack;
  let azurite: Azurite;
  let settings: Record<string, string>;
  before(async () => {
    [stack, azurite] = await Promise.all([startLocalStack({ activities }), startAzurite()]);
    settings = {
      ...stack.settings,
      AzureWebJobsStorage: azurite.connectionString,
      CHECKPOINT_CONTAINER: 'fn-test',
      CREATED_SETTLE_SECONDS: '0',
    };
  });
  after(async () => {
    await Promise.all([stack.close(), azurite.close()]);
  });

  it('ingests every activity and writes the blob checkpoint in AzureWebJobsStorage', async () => {
    const { context, lines } = recordingContext();
    await withEnv(settings, () => mcasActivityTimer(timer(), context));
    assert.equal(new Set(stack.logAnalytics.rows().map((r) => r['ActivityId'])).size, 450);
    const stored = await BlobCheckpointStore.fromConnectionString(
      azurite.connectionString,
      'fn-test',
      'activities',
    ).load();
    assert.ok(stored);
    assert.equal(stored.checkpoint.cursor, stored.checkpoint.windowEnd + 1);
    assert.ok(lines.some((l) => l.level === 'information' && /"sent":450/.test(l.text)));
  });

  it('reports the run to Application Insights as a custom event with its counts, and metrics for lag and records', async (t) => {
    const { startAppInsightsEmulator } = await import('../../emulators/appInsightsEmulator.js');
    const insights = await startAppInsightsEmulator({ instrumentationKey: '00000000-0000-4000-8000-0000000000a1' });
    t.after(() => insights.close());
    stack.mcas.addActivities(
      generateActivities({ count: 4, startCreatedMs: Date.now() - 1, seed: 6, spanMs: 1 }).map((a, i) => ({
        ...a,
        _id: `reported-${i}`,
      })),
    );
    const { context } = recordingContext();
    const connectionString = `InstrumentationKey=00000000-0000-4000-8000-0000000000a1;IngestionEndpoint=${insights.url}/`;
    await withEnv({ ...settings, APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString }, () =>
      mcasActivityTimer(timer(), context),
    );
    const [event] = insights.ofType('EventData');
    assert.ok(event);
    const data = event.data as {
      baseData: { name: string; properties: Record<string, string>; measurements: Record<string, number> };
    };
    assert.equal(data.baseData.name, 'McasConnectorRun');
    assert.equal(data.baseData.properties['outcome'], 'succeeded');
    assert.equal(data.baseData.properties['stream'], 'activities');
    assert.equal(data.baseData.measurements['sent'], 4);
    const metrics = insights
      .ofType('MetricData')
      .map((m) => (m.data as { baseData: { metrics: { name: string }[] } }).baseData.metrics[0]?.name);
    assert.deepEqual(metrics.sort(), ['McasLagMinutes', 'McasRecordsSent']);
  });

  it('warns when the timer is past due and then catches up from the checkpoint', async () => {
    const { context, lines } = recordingContext();
    await withEnv(settings, () => mcasActivityTimer(timer(true), context));
    assert.ok(lines.some((l) => l.level === 'warning' && /past due/.test(l.text)));
    assert.equal(
      new Set(stack.logAnalytics.rows().map((r) => r['ActivityId'])).size,
      stack.logAnalytics.rows().length,
      'nothing was sent twice',
    );
  });

  it('fails the invocation on bad settings, naming them, without logging any secret', async () => {
    const { context, lines } = recordingContext();
    await assert.rejects(
      withEnv({ ...settings, LOG_ANALYTICS_WORKSPACE_ID: 'nope' }, () => mcasActivityTimer(timer(), context)),
      (error: unknown) => error instanceof ConfigError && /LOG_ANALYTICS_WORKSPACE_ID/.test(error.message),
    );
    const text = lines.map((l) => l.text).join('\n');
    assert.doesNotMatch(text, new RegExp(FAKE_MCAS_TOKEN));
    assert.doesNotMatch(text, new RegExp(FAKE_WORKSPACE_KEY.slice(0, 16)));
  });

  it('lets a rejected batch fail the invocation and leaves the checkpoint alone', async () => {
    const { context } = recordingContext();
    const store = BlobCheckpointStore.fromConnectionString(azurite.connectionString, 'fn-test', 'activities');
    const before = await store.load();
    await assert.rejects(
      withEnv({ ...settings, LOG_ANALYTICS_WORKSPACE_KEY: Buffer.from('wrong-key').toString('base64') }, async () => {
        // Saved after the previous run's window closed, so this run has something to send.
        const saved = generateActivities({ count: 3, startCreatedMs: Date.now() - 1, seed: 5, spanMs: 1 });
        stack.mcas.addActivities(saved.map((a, i) => ({ ...a, _id: `new-${i}` })));
        await mcasActivityTimer(timer(), context);
      }),
      /Log Analytics answered 403/,
    );
    const afterwards = await store.load();
    assert.deepEqual(afterwards?.checkpoint, before?.checkpoint);
  });
});
