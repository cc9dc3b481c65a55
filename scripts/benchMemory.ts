// Bench section: peak RSS of the ingesting process (scripts/benchChild.ts, a real runOnce) for 100,000 and 1,000,000
// activities, against emulators in a host process of its own that may use several GB (it holds every activity and
// every received row). benchMemory() starts that host; run as a script, this file is the host. Keyset and scan paging
// are judged; keyset with a smaller V8 young generation is shown beside them.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { RawActivity } from '../emulators/activityGenerator.js';
import type { ChildResult } from './benchChild.js';
import { startBenchStack } from './benchStack.js';
import { benchActivities, type BenchRow, fixed, isQuick, runChild, thousands } from './benchSupport.js';

const HOST_HEAP_MB = 16_384;
const RESULT_PREFIX = 'BENCH_ROWS ';

/** One way of running the connector; only variants with a limit have a pass/fail. */
interface Variant {
  name: string;
  settings: Record<string, string>;
  /** Peak RSS target (MB); undefined for a variant shown for information. */
  limitMb: number | undefined;
  /** Also run at 1,000,000 activities (the 100,000 run alone shows the point otherwise). */
  large: boolean;
}

/** The Node options the deployment sets (infra/modules/functionApp.bicep): the targets are measured with them. */
export const DEPLOYED_NODE_OPTIONS = '--max-semi-space-size=8';

const VARIANTS: readonly Variant[] = [
  {
    name: `keyset paging, as deployed (NODE_OPTIONS=${DEPLOYED_NODE_OPTIONS})`,
    settings: { MCAS_PAGING: 'keyset', NODE_OPTIONS: DEPLOYED_NODE_OPTIONS },
    limitMb: 150,
    large: true,
  },
  {
    name: `scan paging (pages of 5,000), as deployed (NODE_OPTIONS=${DEPLOYED_NODE_OPTIONS})`,
    settings: { MCAS_PAGING: 'scan', NODE_OPTIONS: DEPLOYED_NODE_OPTIONS },
    limitMb: 250,
    large: true,
  },
  // Node's default young generation, as a command-line run has it unless NODE_OPTIONS says otherwise.
  { name: "keyset paging, Node's defaults", settings: { MCAS_PAGING: 'keyset' }, limitMb: undefined, large: false },
  {
    name: "scan paging (pages of 5,000), Node's defaults",
    settings: { MCAS_PAGING: 'scan' },
    limitMb: undefined,
    large: false,
  },
];

interface Measured {
  count: number;
  variant: Variant;
  child: ChildResult;
  requests: number;
  posts: number;
}

/** Runs the memory bench in a host process with a large heap and returns its rows. */
export async function benchMemory(log: (line: string) => void): Promise<BenchRow[]> {
  const child = spawn(process.execPath, [`--max-old-space-size=${HOST_HEAP_MB}`, fileURLToPath(import.meta.url)], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rows: BenchRow[] = [];
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    let newline: number;
    while ((newline = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, newline);
      stdout = stdout.slice(newline + 1);
      if (line.startsWith(RESULT_PREFIX)) rows.push(...(JSON.parse(line.slice(RESULT_PREFIX.length)) as BenchRow[]));
      else log(line);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the memory bench host exited with ${code}`);
  return rows;
}

/** One ingestion by a fresh child process (runOnce, a file checkpoint) against a fresh local stack. */
async function measure(activities: readonly RawActivity[], variant: Variant): Promise<Measured> {
  const stack = await startBenchStack(activities);
  const checkpointDir = await mkdtemp(join(tmpdir(), 'mcas-bench-'));
  try {
    const child = await runChild(stack, { CHECKPOINT_STORE: `file:${checkpointDir}`, ...variant.settings });
    const received = await stack.logAnalytics();
    if (received.distinct !== activities.length || child.sent !== activities.length) {
      throw new Error(
        `${variant.name}: ${received.distinct} distinct rows received of ${activities.length}; the child sent ${child.sent}`,
      );
    }
    return {
      count: activities.length,
      variant,
      child,
      requests: stack.mcas.requests.length,
      posts: received.posts,
    };
  } finally {
    await Promise.all([stack.close(), rm(checkpointDir, { recursive: true, force: true })]);
  }
}

const mb = (kb: number): number => kb / 1024;

function toRows(results: readonly Measured[]): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const variant of VARIANTS) {
    const [small, large] = results.filter((result) => result.variant === variant);
    const section = `Memory: peak RSS of the ingesting process, ${variant.name}`;
    for (const result of [small, large]) {
      if (!result) continue;
      const rss = mb(result.child.maxRssKb);
      const isLarge = result === large && small !== undefined;
      const ratio = isLarge ? rss / mb(small.child.maxRssKb) : 1;
      rows.push({
        section,
        figure: `${thousands(result.count)} activities (${result.requests} requests, ${result.posts} posts, ${fixed(result.child.elapsedMs / 1000, 0)} s)`,
        measured: `${fixed(rss, 1)} MB` + (isLarge ? ` (${fixed(ratio, 3)}x ${thousands(small.count)})` : ''),
        target:
          variant.limitMb === undefined
            ? 'for information: what the NODE_OPTIONS of the deployment save'
            : `<= ${variant.limitMb} MB` + (isLarge ? `, <= 1.1x the ${thousands(small.count)} run` : ''),
        ...(variant.limitMb !== undefined ? { pass: rss <= variant.limitMb && ratio <= 1.1 } : {}),
      });
    }
    if (variant.limitMb !== undefined && large) {
      rows.push({
        section,
        figure: `${thousands(large.count)} activities: wall time of the run (unpaced, loopback)`,
        measured: `${fixed(large.child.elapsedMs / 60_000, 1)} min`,
        target: '< 30 min',
        pass: large.child.elapsedMs < 30 * 60_000,
      });
    }
  }
  return rows;
}

async function host(): Promise<void> {
  const counts = isQuick() ? [20_000] : [100_000, 1_000_000];
  const results: Measured[] = [];
  for (const [index, count] of counts.entries()) {
    const started = performance.now();
    const activities = benchActivities(count);
    console.log(`  ${thousands(count)} activities generated in ${fixed((performance.now() - started) / 1000, 1)} s`);
    for (const variant of VARIANTS) {
      if (index > 0 && !variant.large) continue;
      const result = await measure(activities, variant);
      console.log(
        `  ${variant.name}: peak RSS ${fixed(mb(result.child.maxRssKb), 1)} MB, ${fixed(result.child.elapsedMs / 1000, 1)} s`,
      );
      results.push(result);
    }
  }
  console.log(`${RESULT_PREFIX}${JSON.stringify(toRows(results))}`);
}

const isEntryPoint = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isEntryPoint) {
  host().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
