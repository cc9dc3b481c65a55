// The chaos suite: ingest a large data set through the real CLI while the local MCAS and Log Analytics servers inject
// faults (429 with and without Retry-After, 5xx, resets, slow and truncated answers) and the ingesting process is
// killed with SIGKILL at random moments and restarted. At the end, compare what the workspace received with what MCAS
// served. `npm run chaos` runs the full version; test/chaos.test.ts a small one.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { createRng, generateActivities, type RawActivity, type Rng } from '../emulators/activityGenerator.js';
import { startAzurite } from '../emulators/azurite.js';
import type { DataCollectorFault } from '../emulators/dataCollectorEmulator.js';
import type { Fault } from '../emulators/httpServer.js';
import { startLocalStack } from '../emulators/localStack.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const HOUR = 3600_000;

export interface ChaosOptions {
  activities: number;
  /** SIGKILLs to deliver, each at a random moment of a run. */
  crashes: number;
  seed: number;
  /** Share of requests, on each side, answered with a fault. */
  faultRate: number;
  log: (line: string) => void;
}

export interface ChaosReport {
  served: number;
  received: number;
  lost: number;
  duplicated: number;
  crashes: number;
  runs: number;
  failedRuns: number;
  retries: number;
  mcasFaults: number;
  logAnalyticsFaults: number;
  /** Posts stored by the workspace whose answer the client never saw: each may be sent again. */
  resetsAfterAccept: number;
  maxBatchRecords: number;
  allowedDuplicates: number;
  elapsedMs: number;
  ok: boolean;
}

function mcasFault(rng: Rng): Fault {
  const pick = rng();
  if (pick < 0.2)
    return {
      status: 429,
      headers: { 'retry-after': '0' },
      body: { detail: 'Request was throttled. Expected available in 0 seconds.' },
    };
  if (pick < 0.3) return { status: 429, body: { detail: 'Request was throttled.' } }; // no Retry-After: the long wait
  if (pick < 0.45) return { status: 500 };
  if (pick < 0.6) return { status: 503 };
  if (pick < 0.72) return { kind: 'reset' };
  if (pick < 0.84) return { kind: 'truncate' };
  if (pick < 0.92) return { kind: 'html', status: 502 };
  return { kind: 'delayMs', ms: 100 + Math.floor(rng() * 400) };
}

function logAnalyticsFault(rng: Rng): DataCollectorFault {
  const pick = rng();
  if (pick < 0.2) return { status: 429, headers: { 'retry-after': '0' } };
  if (pick < 0.3) return { status: 429 };
  if (pick < 0.5) return { status: 500 };
  if (pick < 0.65) return { status: 503 };
  if (pick < 0.8) return { kind: 'reset' };
  if (pick < 0.9) return { kind: 'resetAfterAccept' };
  return { kind: 'delayMs', ms: 100 + Math.floor(rng() * 400) };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const rng = createRng(options.seed);
  // Many created ties, the largest bigger than a page; saved over the last day so TimeGenerated stays in range.
  const activities: RawActivity[] = generateActivities({
    count: options.activities,
    startCreatedMs: started - 30 * HOUR,
    seed: options.seed,
    tiesEvery: 4,
    maxTie: 150,
    spanMs: 28 * HOUR,
  });
  let mcasFaults = 0;
  let logAnalyticsFaults = 0;
  let resetsAfterAccept = 0;
  const [stack, azurite] = await Promise.all([
    startLocalStack({
      activities,
      mcas: {
        faults: () => {
          if (rng() >= options.faultRate) return undefined;
          mcasFaults++;
          return mcasFault(rng);
        },
      },
      logAnalytics: {
        faults: () => {
          if (rng() >= options.faultRate) return undefined;
          logAnalyticsFaults++;
          const fault = logAnalyticsFault(rng);
          if ('kind' in fault && fault.kind === 'resetAfterAccept') resetsAfterAccept++;
          return fault;
        },
      },
    }),
    startAzurite(),
  ]);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '',
    ...stack.settings,
    AzureWebJobsStorage: azurite.connectionString,
    CHECKPOINT_STORE: 'blob',
    CREATED_SETTLE_SECONDS: '0',
    INITIAL_LOOKBACK_MINUTES: String(32 * 60),
    MAX_BATCH_BYTES: String(1024 * 1024),
    MCAS_THROTTLE_WAIT_SECONDS: '1',
    HTTP_TIMEOUT_SECONDS: '10',
    RUN_TIME_BUDGET_SECONDS: '900',
  };

  // Crash points spread over the whole ingestion: run N is killed once the workspace holds at least crashAt[N] rows,
  // after a further random 0-250 ms, so kills land in every phase (fetching, mapping, posting, saving the checkpoint).
  const crashAt = Array.from({ length: options.crashes }, () => Math.floor(rng() * options.activities)).sort(
    (a, b) => a - b,
  );
  const rowsReceived = (): number => stack.logAnalytics.batches.reduce((sum, batch) => sum + batch.records.length, 0);
  let crashes = 0;
  let runs = 0;
  let failedRuns = 0;
  let retries = 0;
  try {
    for (let done = false; !done;) {
      if (runs >= options.crashes + 40) throw new Error(`no clean finish after ${runs} runs`);
      runs++;
      const threshold = crashAt[crashes];
      const killWhen = threshold === undefined ? undefined : { rows: threshold, delayMs: Math.floor(rng() * 250) };
      const result = await runCli(env, killWhen, rowsReceived);
      retries += (result.stderr.match(/retrying in/g) ?? []).length;
      if (result.killed) {
        crashes++;
        options.log(
          `run ${runs}: killed (crash ${crashes} of ${options.crashes}) with ${rowsReceived()} rows received`,
        );
      } else if (result.code === 0) {
        const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as {
          sent?: number;
          moreToDo?: boolean;
        };
        options.log(`run ${runs}: finished, sent ${summary.sent}${summary.moreToDo ? ', more to do' : ''}`);
        done = crashes >= options.crashes && summary.moreToDo === false;
      } else {
        failedRuns++;
        options.log(`run ${runs}: failed (exit ${result.code}): ${lastLine(result.stderr)}`);
      }
    }
  } finally {
    await Promise.all([stack.close(), azurite.close()]);
  }

  const rows = stack.logAnalytics.rows();
  const received = new Set(rows.map((row) => row['ActivityId']));
  const lost = activities.filter((a) => !received.has(a['_id'])).length;
  const maxBatchRecords = Math.max(0, ...stack.logAnalytics.batches.map((b) => b.records.length));
  const allowedDuplicates = (crashes + resetsAfterAccept) * maxBatchRecords;
  const duplicated = rows.length - received.size;
  return {
    served: activities.length,
    received: received.size,
    lost,
    duplicated,
    crashes,
    runs,
    failedRuns,
    retries,
    mcasFaults,
    logAnalyticsFaults,
    resetsAfterAccept,
    maxBatchRecords,
    allowedDuplicates,
    elapsedMs: Date.now() - started,
    ok: lost === 0 && duplicated <= allowedDuplicates && crashes >= options.crashes,
  };
}

/** Runs `cli run` once; with `killWhen`, SIGKILLs it `delayMs` after the workspace holds `rows` rows. */
function runCli(
  env: NodeJS.ProcessEnv,
  killWhen: { rows: number; delayMs: number } | undefined,
  rowsReceived: () => number,
): Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'run'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let killTimer: NodeJS.Timeout | undefined;
    const watch = killWhen
      ? setInterval(() => {
          if (killTimer || rowsReceived() < killWhen.rows) return;
          killTimer = setTimeout(() => child.kill('SIGKILL'), killWhen.delayMs);
        }, 2)
      : undefined;
    child.on('close', (code, signal) => {
      clearInterval(watch);
      clearTimeout(killTimer);
      resolve({ code, killed: signal === 'SIGKILL', stdout, stderr });
    });
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.slice(0, 300) ?? '';
}

export function formatReport(report: ChaosReport): string {
  return [
    `served ${report.served}, received ${report.received} distinct`,
    `lost ${report.lost}`,
    `duplicated ${report.duplicated} (allowed ${report.allowedDuplicates} = (${report.crashes} crashes + ${report.resetsAfterAccept} posts stored but reset) x ${report.maxBatchRecords} rows per batch)`,
    `crashes ${report.crashes}, runs ${report.runs}, failed runs ${report.failedRuns}`,
    `retries ${report.retries}, faults injected: MCAS ${report.mcasFaults}, Log Analytics ${report.logAnalyticsFaults}`,
    `elapsed ${(report.elapsedMs / 1000).toFixed(1)} s`,
  ].join('\n');
}

const isEntryPoint = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isEntryPoint) {
  const count = Number(process.env['CHAOS_ACTIVITIES'] ?? 100_000);
  const crashes = Number(process.env['CHAOS_CRASHES'] ?? 12);
  const seed = Number(process.env['CHAOS_SEED'] ?? Date.now() % 100_000);
  console.log(`Chaos: ${count} activities, ${crashes} crashes, seed ${seed} (set CHAOS_SEED to replay)`);
  runChaos({ activities: count, crashes, seed, faultRate: 0.05, log: (line) => console.log(line) }).then(
    (report) => {
      console.log(`\n${formatReport(report)}`);
      console.log(report.ok ? 'OK: nothing lost, duplicates within one batch per crash.' : 'FAILED');
      process.exitCode = report.ok ? 0 : 1;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
