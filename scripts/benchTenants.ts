// Bench section "many tenants": 50 tenants ingesting at once, each against its own MCAS emulator with Microsoft's limit
// (30 requests per window) and the connector's pacer on the same window, both scaled down from a minute. Tenants run
// through runTenant, as the queue function runs them, in instance processes of host.json's concurrency (batchSize +
// newBatchThreshold messages at once), as many as the queue's scale-out would start. Reports the aggregate steady
// throughput against 50 x one tenant's ceiling, and the memory of an instance at that concurrency.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { FAKE_WORKSPACE_ID, FAKE_WORKSPACE_KEY } from '../emulators/localStack.js';
import { type McasEmulator, startMcasEmulator } from '../emulators/mcasEmulator.js';
import { localSecretSetting } from '../src/tenants/tenantSettings.js';
import { hostQueueSettings } from '../test/helpers/queueHost.js';
import type { LogAnalyticsSummary } from './benchStack.js';
import { benchActivities, type BenchRow, fixed, isQuick, LOOKBACK_MS, thousands } from './benchSupport.js';
import type { TenantsChildResult } from './benchTenantsChild.js';

const CHILD = fileURLToPath(new URL('./benchTenantsChild.js', import.meta.url));
const RATE_REQUESTS = 30;
const PAGE_SIZE = 100;

/**
 * Requests a second of one tenant in the steady state, from the arrival times of its requests at MCAS. The sliding
 * window lets the first RATE_REQUESTS go at once; after that they come RATE_REQUESTS per window. Measured over whole
 * cycles: from the last request of the first burst to the last of the last complete cycle.
 */
function steadyRequestsPerSecond(arrivalsMs: readonly number[]): number {
  const cycles = Math.floor((arrivalsMs.length - RATE_REQUESTS) / RATE_REQUESTS);
  const first = arrivalsMs[RATE_REQUESTS - 1];
  const last = arrivalsMs[RATE_REQUESTS * (cycles + 1) - 1];
  if (cycles < 1 || first === undefined || last === undefined) return Number.NaN;
  return ((RATE_REQUESTS * cycles) / (last - first)) * 1000;
}

async function runInstance(env: NodeJS.ProcessEnv, tenants: readonly string[]): Promise<TenantsChildResult> {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...env, BENCH_TENANTS: tenants.join(',') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`a tenants bench instance exited with ${code}`);
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as TenantsChildResult;
}

export async function benchTenants(log: (line: string) => void): Promise<BenchRow[]> {
  const tenantCount = isQuick() ? 10 : 50;
  const windowMs = isQuick() ? 10_000 : 30_000;
  // Enough for the first burst and three paced cycles (keyset re-reads a few records at page boundaries).
  const count = 4 * RATE_REQUESTS * PAGE_SIZE - 200;
  const { batchSize, newBatchThreshold } = hostQueueSettings();
  const concurrency = batchSize + newBatchThreshold;
  const instances: string[][] = [];
  const keys = Array.from({ length: tenantCount }, (_, i) => `tenant-${String(i + 1).padStart(2, '0')}`);
  for (let i = 0; i < keys.length; i += concurrency) instances.push(keys.slice(i, i + concurrency));
  const section =
    `Many tenants (${tenantCount} tenants of ${thousands(count)} activities; MCAS limit and pacer ${RATE_REQUESTS} ` +
    `requests per ${windowMs / 1000} s; ${instances.length} instances of host.json's ${concurrency} at once)`;

  // The tenants share one list of activities (memory), and one workspace on a worker thread, as in the other sections.
  const activities = benchActivities(count);
  const worker = new Worker(new URL('./benchLogAnalyticsWorker.js', import.meta.url), {
    resourceLimits: { maxOldGenerationSizeMb: 16_384 },
  });
  const [logAnalyticsUrl] = (await once(worker, 'message')) as [string];
  const arrivals = keys.map(() => [] as number[]);
  const emulators: McasEmulator[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'bench-tenants-'));
  try {
    for (const [index, key] of keys.entries()) {
      emulators.push(
        await startMcasEmulator({
          activities,
          token: `bench-token-of-${key}`,
          rateLimit: { requests: RATE_REQUESTS, perMs: windowMs },
          faults: () => {
            arrivals[index]?.push(performance.now());
            return undefined;
          },
        }),
      );
    }
    const registry = {
      tenants: keys.map((key, index) => ({
        key,
        portalUrl: emulators[index]?.url,
        auth: { kind: 'token', tokenSecretName: `${key}-token` },
        sink: {
          kind: 'dataCollector',
          workspaceId: FAKE_WORKSPACE_ID,
          keySecretName: 'bench-workspace-key',
          endpoint: logAnalyticsUrl,
        },
      })),
    };
    await writeFile(join(dir, 'tenants.json'), JSON.stringify(registry));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'] ?? '',
      TENANT_REGISTRY: `file:${join(dir, 'tenants.json')}`,
      CHECKPOINT_STORE: `file:${join(dir, 'checkpoints')}`,
      CREATED_SETTLE_SECONDS: '0',
      INITIAL_LOOKBACK_MINUTES: String(LOOKBACK_MS / 60_000),
      RUN_TIME_BUDGET_SECONDS: String(3 * 3600),
      BENCH_PACER_WINDOW_MS: String(windowMs),
      [localSecretSetting('bench-workspace-key')]: FAKE_WORKSPACE_KEY,
      ...Object.fromEntries(keys.map((key) => [localSecretSetting(`${key}-token`), `bench-token-of-${key}`])),
    };
    log(`  ${tenantCount} tenants in ${instances.length} instances (${instances.map((i) => i.length).join(', ')}) ...`);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const results = await Promise.all(instances.map((tenants) => runInstance(env, tenants)));
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const emulatorCpuMs = (cpu.user + cpu.system) / 1000;
    const instanceCpuMs = results.reduce((sum, r) => sum + r.cpuMs, 0);

    worker.postMessage('summary');
    const [received] = (await once(worker, 'message')) as [LogAnalyticsSummary];
    const sent = results.flatMap((r) => r.runs).reduce((sum, run) => sum + run.sent, 0);
    if (received.rows !== tenantCount * count || sent !== tenantCount * count) {
      throw new Error(`Log Analytics received ${received.rows} rows (runs sent ${sent}) of ${tenantCount * count}`);
    }
    const perTenant = arrivals.map(steadyRequestsPerSecond);
    // Every page is full but the last, and keyset re-reads a few records, so new records = requests x the share new.
    const requests = arrivals.reduce((sum, a) => sum + a.length, 0);
    const freshPerRequest = (tenantCount * count) / requests;
    const aggregate = perTenant.reduce((sum, rate) => sum + rate, 0) * PAGE_SIZE;
    const ceiling = tenantCount * ((RATE_REQUESTS * PAGE_SIZE) / windowMs) * 1000;
    const throttled = emulators.reduce((sum, e) => sum + e.requests.filter((r) => r.status === 429).length, 0);
    const slowest = Math.min(...perTenant) * PAGE_SIZE;

    const full = results.reduce((a, b) => (b.runs.length > a.runs.length ? b : a));
    const small = results.reduce((a, b) => (b.runs.length < a.runs.length ? b : a));
    const mb = (kb: number) => kb / 1024;
    const perTenantMb = (mb(full.maxRssKb) - mb(full.baselineRssKb)) / full.runs.length;
    const marginalMb =
      full.runs.length > small.runs.length
        ? (mb(full.maxRssKb) - mb(small.maxRssKb)) / (full.runs.length - small.runs.length)
        : Number.NaN;
    return [
      {
        section,
        figure: 'aggregate steady records/s (read, all pages full); slowest tenant; 429s',
        measured:
          `${thousands(aggregate)}/s = ${fixed((100 * aggregate) / ceiling, 1)} %; slowest ` +
          `${fixed((100 * slowest * tenantCount) / ceiling, 1)} % of its own; ${throttled} x 429`,
        target: `>= 90 % of ${tenantCount} x 100 x ${RATE_REQUESTS} per ${windowMs / 1000} s = ${thousands(0.9 * ceiling)}/s; 0 x 429`,
        pass: aggregate >= 0.9 * ceiling && throttled === 0,
      },
      {
        section,
        figure: 'delivered; wall time',
        measured:
          `${thousands(received.rows)} rows = ${tenantCount} x ${thousands(count)}, once each ` +
          `(${fixed(freshPerRequest, 1)} new a request); ${fixed(wallMs / 1000, 1)} s`,
        target: 'every tenant complete, nothing twice (checked: the section fails otherwise)',
      },
      {
        section,
        figure: 'CPU used: instances + emulators, over the wall time',
        measured:
          `${fixed(instanceCpuMs / 1000, 1)} s + ${fixed(emulatorCpuMs / 1000, 1)} s in ${fixed(wallMs / 1000, 1)} s = ` +
          `${fixed((instanceCpuMs + emulatorCpuMs) / wallMs, 2)} cores of ${availableParallelism()} (load average at the end ${fixed(loadavg()[0] ?? 0, 1)})`,
        target: 'when this nears the cores free, the machine, not the connector, sets the aggregate',
      },
      {
        section,
        figure: `peak RSS of an instance running ${full.runs.length} tenants at once (before the runs)`,
        measured: `${fixed(mb(full.maxRssKb), 1)} MB (${fixed(mb(full.baselineRssKb), 1)} MB)`,
        target: "for sizing: a Flex Consumption instance has 512, 2048 or 4096 MB (README, 'Many tenants')",
      },
      {
        section,
        figure: 'memory per tenant: (peak - before) / tenants; marginal between instances',
        measured:
          `${fixed(perTenantMb, 1)} MB; ${Number.isFinite(marginalMb) ? `${fixed(marginalMb, 1)} MB` : 'n/a'} ` +
          `(${full.runs.length} vs ${small.runs.length} tenants: ${fixed(mb(full.maxRssKb), 1)} vs ${fixed(mb(small.maxRssKb), 1)} MB)`,
        target: 'for sizing tenants per instance',
      },
    ];
  } finally {
    worker.postMessage('close');
    await Promise.all([...emulators.map((e) => e.close()), once(worker, 'exit')]);
    await rm(dir, { recursive: true, force: true });
  }
}
