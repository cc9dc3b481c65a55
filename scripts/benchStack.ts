// The emulators a bench run ingests from and into: MCAS on this thread, Log Analytics on a worker thread
// (scripts/benchLogAnalyticsWorker.ts). In one thread, the Data Collector emulator's check of each 4 MiB post (parsing
// it and inferring its columns, about 50 ms here) held up MCAS's answers meanwhile, which no real deployment sees.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

import type { RawActivity } from '../emulators/activityGenerator.js';
import { FAKE_MCAS_TOKEN, localStackSettings } from '../emulators/localStack.js';
import { type McasEmulator, type McasEmulatorOptions, startMcasEmulator } from '../emulators/mcasEmulator.js';

/** What the bench's Log Analytics accepted: rows, distinct ActivityIds among them, accepted posts and their bytes. */
export interface LogAnalyticsSummary {
  rows: number;
  distinct: number;
  posts: number;
  postBytes: number;
}

export interface BenchStack {
  mcas: McasEmulator;
  /** App settings for the connector, as LocalStack's. */
  settings: Record<string, string>;
  logAnalytics(): Promise<LogAnalyticsSummary>;
  close(): Promise<void>;
}

export async function startBenchStack(
  activities: readonly RawActivity[],
  mcasOptions: Omit<McasEmulatorOptions, 'activities' | 'token'> = {},
): Promise<BenchStack> {
  // Its own heap limit: a 1,000,000-activity run leaves about 2 GB of rows in it.
  const worker = new Worker(new URL('./benchLogAnalyticsWorker.js', import.meta.url), {
    resourceLimits: { maxOldGenerationSizeMb: 16_384 },
  });
  const [url] = (await once(worker, 'message')) as [string];
  const mcas = await startMcasEmulator({ ...mcasOptions, activities, token: FAKE_MCAS_TOKEN });
  return {
    mcas,
    settings: localStackSettings(mcas.url, url),
    logAnalytics: async () => {
      worker.postMessage('summary');
      const [summary] = (await once(worker, 'message')) as [LogAnalyticsSummary];
      return summary;
    },
    close: async () => {
      worker.postMessage('close');
      await Promise.all([mcas.close(), once(worker, 'exit')]);
    },
  };
}
