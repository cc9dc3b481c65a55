// Several tenants' worth of loopback services: for each, an MCAS emulator with its own token and activities and a
// Data Collector emulator with its own workspace id and key, plus the registry entry and the local secret settings
// that point the connector at them. Fake secrets only, distinct per tenant, so a test can tell whose reached where.
import { generateActivities, type RawActivity } from '../../emulators/activityGenerator.js';
import { type DataCollectorEmulator, startDataCollectorEmulator } from '../../emulators/dataCollectorEmulator.js';
import { type McasEmulator, type McasEmulatorOptions, startMcasEmulator } from '../../emulators/mcasEmulator.js';
import { localSecretSetting } from '../../src/tenants/tenantSettings.js';

export interface TenantStack {
  key: string;
  token: string;
  workspaceId: string;
  workspaceKey: string;
  activities: RawActivity[];
  mcas: McasEmulator;
  logAnalytics: DataCollectorEmulator;
  /** The registry entry for this tenant. */
  entry: Record<string, unknown>;
}

export interface TenantStackSpec {
  key: string;
  count: number;
  /** What MCAS does besides answering (rate limit, faults). */
  mcas?: Omit<McasEmulatorOptions, 'activities' | 'token'>;
  /** The token the registry's secret holds; default the one MCAS accepts. A different one is refused (401). */
  registryToken?: string;
}

export async function startTenantStacks(specs: readonly TenantStackSpec[], nowMs: number): Promise<TenantStack[]> {
  const started = await Promise.allSettled(specs.map((spec, index) => startTenantStack(spec, index, nowMs)));
  const stacks = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    // Close what did start, or its servers would keep the test process alive.
    await closeTenantStacks(stacks);
    throw failed.reason;
  }
  return stacks;
}

async function startTenantStack(spec: TenantStackSpec, index: number, nowMs: number): Promise<TenantStack> {
  const token = `fake-mcas-token-of-${spec.key}`;
  const workspaceId = `00000000-0000-4000-8000-${String(index + 1).padStart(12, '0')}`;
  const workspaceKey = Buffer.from(`fake workspace key of ${spec.key}`).toString('base64');
  const activities = generateActivities({
    count: spec.count,
    startCreatedMs: nowMs - 2 * 3600_000,
    seed: 100 + index,
    spanMs: 3600_000,
  }).map((a) => ({ ...a, _id: `${spec.key}-${String(a['_id'])}` }));
  const [mcas, logAnalytics] = await Promise.all([
    startMcasEmulator({ ...spec.mcas, activities, token }),
    startDataCollectorEmulator({ workspaceId, sharedKeyBase64: workspaceKey }),
  ]);
  const entry = {
    key: spec.key,
    portalUrl: mcas.url,
    auth: { kind: 'token', tokenSecretName: `${spec.key}-mcas-token` },
    sink: {
      kind: 'dataCollector',
      workspaceId,
      keySecretName: `${spec.key}-workspace-key`,
      endpoint: logAnalytics.url,
    },
  };
  return {
    key: spec.key,
    token: spec.registryToken ?? token,
    workspaceId,
    workspaceKey,
    activities,
    mcas,
    logAnalytics,
    entry,
  };
}

/** The local secret settings (no Key Vault) of every tenant. */
export function tenantSecretSettings(stacks: readonly TenantStack[]): Record<string, string> {
  return Object.fromEntries(
    stacks.flatMap((s) => [
      [localSecretSetting(`${s.key}-mcas-token`), s.token],
      [localSecretSetting(`${s.key}-workspace-key`), s.workspaceKey],
    ]),
  );
}

export async function closeTenantStacks(stacks: readonly TenantStack[]): Promise<void> {
  await Promise.all(stacks.flatMap((s) => [s.mcas.close(), s.logAnalytics.close()]));
}
