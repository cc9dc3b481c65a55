// One Functions instance of the multi-tenant bench: the tenants in BENCH_TENANTS run at once, each through runTenant
// (the queue function's path: registry, own settings, lock, checkpoint, pacer, sink), with the pacer's window
// BENCH_PACER_WINDOW_MS. Prints one JSON line: resident memory before the runs and at its peak, and each run's counts.
// Not a CLI for people; scripts/benchTenants.ts starts it.
import { systemClock } from '../src/clock.js';
import type { Logger } from '../src/logger.js';
import { runTenant } from '../src/tenants/runTenant.js';

export interface TenantsChildResult {
  /** RSS once the modules are loaded, before any run (kB). */
  baselineRssKb: number;
  /** process.resourceUsage().maxRSS at the end: peak resident set size (kB). */
  maxRssKb: number;
  elapsedMs: number;
  /** CPU time of this process during the runs, user + system (ms). */
  cpuMs: number;
  runs: { tenant: string; sent: number; fetched: number; moreToDo: boolean }[];
}

async function main(): Promise<void> {
  const tenants = (process.env['BENCH_TENANTS'] ?? '').split(',').filter((key) => key !== '');
  const pacerWindowMs = Number(process.env['BENCH_PACER_WINDOW_MS']);
  const log: Logger = {
    info: () => undefined,
    warn: (message) => {
      if (!message.startsWith('Secrets were read from app settings')) process.stderr.write(`[warn] ${message}\n`);
    },
    error: (message) => process.stderr.write(`[error] ${message}\n`),
  };
  // Load what a run loads (config, clients, stores) before measuring the baseline, as a warm instance has.
  await Promise.all([
    import('../src/runOnce.js'),
    import('../src/checkpoint/FileCheckpointStore.js'),
    import('../src/sink/DataCollectorSink.js'),
  ]);
  const baselineRssKb = Math.round(process.memoryUsage().rss / 1024);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const results = await Promise.all(
    tenants.map((key) => runTenant(process.env, key, log, { overrides: { pacerWindowMs, clock: systemClock } })),
  );
  const result: TenantsChildResult = {
    baselineRssKb,
    maxRssKb: process.resourceUsage().maxRSS,
    elapsedMs: performance.now() - started,
    cpuMs: cpuMs(process.cpuUsage(cpuBefore)),
    runs: results.map((r) =>
      r.outcome === 'ran'
        ? { tenant: r.tenant, sent: r.summary.sent, fetched: r.summary.fetched, moreToDo: r.summary.moreToDo }
        : { tenant: r.tenant, sent: 0, fetched: 0, moreToDo: true },
    ),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
