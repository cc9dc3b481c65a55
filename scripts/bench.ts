// `npm run bench`: the performance figures of issue 4 beside their floors and targets, as one markdown table with a
// pass/fail column. Ratios from one run on a shared machine, not timed tests. BENCH_QUICK=1 runs a smaller variant;
// BENCH_SECTIONS=cpu,memory runs some sections only.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';

import { benchCatchUp } from './benchCatchUp.js';
import { benchColdStart } from './benchColdStart.js';
import { benchCpu } from './benchCpu.js';
import { benchMemory } from './benchMemory.js';
import { benchRequestFloors, benchThrottle } from './benchRequests.js';
import { type BenchRow, isQuick } from './benchSupport.js';
import { benchTenants } from './benchTenants.js';

type Section = (log: (line: string) => void) => Promise<BenchRow[]>;

const SECTIONS: readonly [string, Section][] = [
  ['cold start', benchColdStart],
  ['CPU per record', benchCpu],
  ['request floors', benchRequestFloors],
  ['throttle ceiling', benchThrottle],
  ['memory', benchMemory],
  ['many tenants', benchTenants],
  ['catch-up', benchCatchUp],
];

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    return line?.split(':')[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
}

function machine(): string {
  return (
    `${availableParallelism()} cores (${cpuModel()}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
    `node ${process.version}, ${process.platform}; ${new Date().toISOString().slice(0, 10)}`
  );
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function formatTable(rows: readonly BenchRow[]): string {
  const lines = ['| section | figure | measured | floor / target | pass |', '|---|---|---|---|---|'];
  for (const row of rows) {
    const pass = row.pass === undefined ? 'info' : row.pass ? 'pass' : 'FAIL';
    lines.push(`| ${[row.section, row.figure, row.measured, row.target, pass].map(escapeCell).join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const started = performance.now();
  log(`bench${isQuick() ? ' (BENCH_QUICK=1)' : ''} on ${machine()}`);
  const rows: BenchRow[] = [];
  // BENCH_SECTIONS=cpu,memory runs only the sections whose names contain one of the words.
  const only = (process.env['BENCH_SECTIONS'] ?? '').split(',').filter((word) => word !== '');
  for (const [name, section] of SECTIONS) {
    if (only.length > 0 && !only.some((word) => name.toLowerCase().includes(word.toLowerCase()))) continue;
    log(`${name} ...`);
    rows.push(...(await section(log)));
  }
  console.log(`Machine: ${machine()}${isQuick() ? ' (BENCH_QUICK=1)' : ''}\n`);
  console.log(formatTable(rows));
  const failed = rows.filter((row) => row.pass === false).length;
  console.log(
    `\n${failed === 0 ? 'All targets met' : `${failed} target(s) missed`}; ${((performance.now() - started) / 60_000).toFixed(1)} min.`,
  );
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
