// `cli status --all`: for every tenant in the registry, its lag behind now and how its last run went, read from the
// checkpoint and the report kept beside it, plus what waits in the poison queue. Needs no tenant's secrets.
import type { TokenCredential } from '@azure/identity';

import { ensureError, errorStatus } from '../errors.js';
import { createCheckpointStore } from '../wiring.js';
import { lazyIdentity } from './lazyIdentity.js';
import { loadRegistry } from './loadRegistry.js';
import { describeProblem } from './TenantRegistry.js';
import { tenantCheckpointLocation, tenantCheckpointName } from './tenantSettings.js';
import { queueClient, type StorageAccess, storageAccess, tenantQueueName } from './tenantStorage.js';

export interface TenantStatus {
  tenant: string;
  state: 'ok' | 'unhealthy' | 'disabled';
  /** Minutes between now and the checkpoint's cursor; undefined without a checkpoint. */
  lagMinutes: number | undefined;
  lastOutcome: 'succeeded' | 'failed' | undefined;
  lastRunAt: string | undefined;
  /** Messages of this tenant in the poison queue (runs that failed every attempt). */
  poisoned: number;
  problems: string[];
}

export interface StatusAllOptions {
  maxLagMinutes: number;
  nowMs?: number;
  credential?: TokenCredential;
}

/** Messages the poison queue is peeked for; the service returns at most 32 a call. */
const POISON_PEEK = 32;

export async function readAllTenantStatus(
  env: NodeJS.ProcessEnv,
  options: StatusAllOptions,
): Promise<{ healthy: boolean; tenants: TenantStatus[] }> {
  const credential = lazyIdentity(env, options.credential);
  const nowMs = options.nowMs ?? Date.now();
  const registry = await loadRegistry(env, credential);
  const location = tenantCheckpointLocation(env);
  const poisoned = await countPoisoned(env, credential);

  const statuses: TenantStatus[] = [];
  const invalid = new Map<string, string[]>();
  for (const problem of registry.problems) {
    invalid.set(problem.tenant, [...(invalid.get(problem.tenant) ?? []), describeProblem(problem)]);
  }
  for (const [tenant, problems] of invalid) {
    statuses.push({
      tenant,
      state: 'unhealthy',
      lagMinutes: undefined,
      lastOutcome: undefined,
      lastRunAt: undefined,
      poisoned: poisoned.get(tenant) ?? 0,
      problems: [`Invalid registry entry: ${problems.join('; ')}`],
    });
  }
  const read = registry.tenants.map(async (entry): Promise<TenantStatus> => {
    const store = await createCheckpointStore(location, tenantCheckpointName(entry.key), credential);
    const [stored, report] = await Promise.all([store.load(), store.loadReport()]);
    const lagMinutes = stored ? Math.round(((nowMs - stored.checkpoint.cursor) / 60_000) * 10) / 10 : undefined;
    const problems: string[] = [];
    if (entry.enabled) {
      if (!stored) problems.push('No checkpoint yet: no run has saved progress.');
      else if (lagMinutes !== undefined && lagMinutes > options.maxLagMinutes)
        problems.push(`Lag ${lagMinutes} min is above ${options.maxLagMinutes} min.`);
      if (report?.outcome === 'failed') problems.push(`The last run failed: ${report.error ?? 'no detail'}`);
    }
    return {
      tenant: entry.key,
      state: !entry.enabled ? 'disabled' : problems.length > 0 ? 'unhealthy' : 'ok',
      lagMinutes,
      lastOutcome: report?.outcome,
      lastRunAt: report?.startedAt,
      poisoned: poisoned.get(entry.key) ?? 0,
      problems,
    };
  });
  statuses.push(...(await Promise.all(read)));
  return { healthy: statuses.every((s) => s.state !== 'unhealthy'), tenants: statuses };
}

/** Poison messages by tenant (the first POISON_PEEK of them); none when the poison queue does not exist. */
async function countPoisoned(
  env: NodeJS.ProcessEnv,
  credential: () => Promise<TokenCredential>,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let access: StorageAccess;
  try {
    access = storageAccess(env);
  } catch {
    return counts; // no storage account (local runs with file checkpoints): no queue either
  }
  try {
    const poison = await queueClient(access, `${tenantQueueName(env)}-poison`, credential);
    const { peekedMessageItems } = await poison.peekMessages({ numberOfMessages: POISON_PEEK });
    for (const item of peekedMessageItems) {
      const tenant = tenantOf(item.messageText);
      if (tenant !== undefined) counts.set(tenant, (counts.get(tenant) ?? 0) + 1);
    }
  } catch (error) {
    if (errorStatus(error) !== 404) {
      // eslint-disable-next-line preserve-caught-error -- described, not attached: a storage error carries its request
      throw new Error(`Could not read the poison queue (${ensureError(error).message.split('\n')[0]?.slice(0, 200)}).`);
    }
  }
  return counts;
}

function tenantOf(messageText: string): string | undefined {
  try {
    const value = JSON.parse(Buffer.from(messageText, 'base64').toString('utf8')) as { tenant?: unknown };
    return typeof value.tenant === 'string' ? value.tenant : undefined;
  } catch {
    return undefined;
  }
}

/** One line per tenant, for people. */
export function formatAllTenantStatus(status: { healthy: boolean; tenants: TenantStatus[] }): string {
  const rows = status.tenants.map((t) => [
    t.tenant,
    t.state === 'ok' ? 'OK' : t.state === 'disabled' ? 'disabled' : 'NOT OK',
    t.lagMinutes !== undefined ? `${t.lagMinutes} min` : '-',
    t.lastOutcome ? `${t.lastOutcome} ${t.lastRunAt ?? ''}`.trim() : 'none',
    t.poisoned > 0 ? String(t.poisoned) : '-',
    t.problems.join(' '),
  ]);
  const header = ['tenant', 'health', 'lag', 'last run', 'poisoned', 'problems'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const unhealthy = status.tenants.filter((t) => t.state === 'unhealthy').length;
  return [
    line(header),
    ...rows.map(line),
    status.healthy ? 'All tenants healthy.' : `${unhealthy} of ${status.tenants.length} tenants NOT OK.`,
  ].join('\n');
}
