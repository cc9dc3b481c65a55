// The loopback MCAS and Log Analytics emulators started together, with the app settings that point the connector at
// them. Used by the demo, the end-to-end tests and the chaos suite. Fake secrets only.
import type { RawActivity } from './activityGenerator.js';
import {
  type DataCollectorEmulator,
  type DataCollectorEmulatorOptions,
  startDataCollectorEmulator,
} from './dataCollectorEmulator.js';
import { type McasEmulator, type McasEmulatorOptions, startMcasEmulator } from './mcasEmulator.js';

/** Obviously fake values: the emulators check them exactly as the real services would check real ones. */
export const FAKE_MCAS_TOKEN = 'fake-mcas-api-token-for-local-emulators-0001';
export const FAKE_WORKSPACE_ID = '5e4c0000-fa6e-4000-8000-00000000cafe';
export const FAKE_WORKSPACE_KEY = Buffer.from('fake-workspace-shared-key-for-local-emulators').toString('base64');

export interface LocalStack {
  mcas: McasEmulator;
  logAnalytics: DataCollectorEmulator;
  /** App settings for the connector (secrets from the environment, as in a local run); add a checkpoint store. */
  settings: Record<string, string>;
  close(): Promise<void>;
}

export interface LocalStackOptions {
  activities: readonly RawActivity[];
  mcas?: Omit<McasEmulatorOptions, 'activities' | 'token'>;
  logAnalytics?: Omit<DataCollectorEmulatorOptions, 'workspaceId' | 'sharedKeyBase64'>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const mcas = await startMcasEmulator({ ...options.mcas, activities: options.activities, token: FAKE_MCAS_TOKEN });
  const logAnalytics = await startDataCollectorEmulator({
    ...options.logAnalytics,
    workspaceId: FAKE_WORKSPACE_ID,
    sharedKeyBase64: FAKE_WORKSPACE_KEY,
  }).catch(async (error: unknown) => {
    await mcas.close();
    throw error;
  });
  return {
    mcas,
    logAnalytics,
    settings: localStackSettings(mcas.url, logAnalytics.url),
    close: async () => {
      await Promise.all([mcas.close(), logAnalytics.close()]);
    },
  };
}

/** App settings that point the connector at an MCAS emulator and a Data Collector emulator started with the fake secrets. */
export function localStackSettings(mcasUrl: string, logAnalyticsUrl: string): Record<string, string> {
  return {
    MCAS_PORTAL_URL: mcasUrl,
    LOG_ANALYTICS_WORKSPACE_ID: FAKE_WORKSPACE_ID,
    LOG_ANALYTICS_ENDPOINT: logAnalyticsUrl,
    MCAS_API_TOKEN: FAKE_MCAS_TOKEN,
    LOG_ANALYTICS_WORKSPACE_KEY: FAKE_WORKSPACE_KEY,
    // The emulator enforces no tenant rate limit unless asked to (options.mcas.rateLimit); the connector's own
    // pacing (30 a minute by default, Microsoft's limit) would only slow local runs down.
    MCAS_MAX_REQUESTS_PER_MINUTE: '1000000',
  };
}
