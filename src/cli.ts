#!/usr/bin/env node
// The command line: `run` (one ingestion cycle) and `map` (show how records map to rows). Settings come from the
// environment and, like `func start`, from the Values of ./local.settings.json when that file exists.
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { ConfigError, ensureError } from './errors.js';
import { type Logger, stderrLogger } from './logger.js';
import { mapActivity } from './mapping/toLogRecord.js';

const USAGE = `Usage: mcas-activity-connector <command> [options]

Commands:
  run [--since ISO] [--until ISO] [--dry-run]
      One ingestion cycle. Without --since it continues from the checkpoint and saves it; with --since/--until it
      reads that fixed 'created' range and neither reads nor moves the live checkpoint. --dry-run fetches and maps
      but sends nothing. The last stdout line is a JSON summary.
  backfill --from ISO --to ISO [--budget-minutes N] [--dry-run]
      Loads a historical 'created' range with its own checkpoint (run it again to resume), leaving out what the live
      stream already covers. Shows progress; the last stdout line is a JSON summary.
  status [--max-lag-minutes N] [--no-backlog] [--json]
      The checkpoint, its lag behind now, the last run and the backlog in MCAS. Exit code 1 when the lag is above
      the threshold (default 30), the last run failed, or there is no checkpoint: usable as a health probe.
  map [FILE|-]
      Reads one MCAS activity, an array of them, or an API page ({"data": [...]}) from FILE or stdin and prints one
      mapped row per line as JSON.

Many tenants (TENANT_REGISTRY): tenants validate [--file PATH], status --all, run --tenant KEY (see README).

Settings are app settings (see README); ./local.settings.json Values are used when present.`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return runCommand(rest, env);
    case 'map':
      return mapCommand(rest);
    case 'backfill':
      return backfillCommand(rest, env);
    case 'status':
      return statusCommand(rest, env);
    case 'tenants':
      return (await import('./tenants/tenantCli.js')).tenantsCommand(rest, withLocalSettings(env));
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}\n`);
      return 2;
  }
}

async function runCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (args.some((a) => a === '--tenant' || a.startsWith('--tenant=')))
    return (await import('./tenants/tenantCli.js')).runTenantCommand(args, withLocalSettings(env), stderrLogger);
  const { values } = parseArgs({
    args: [...args],
    options: { since: { type: 'string' }, until: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: false,
  });
  const startMs = parseTime('--since', values.since);
  const endMs = parseTime('--until', values.until);
  if (endMs !== undefined && startMs === undefined) throw new UsageError('--until needs --since.');
  if (startMs !== undefined && endMs !== undefined && endMs < startMs)
    throw new UsageError('--until is before --since.');

  const { runOnce } = await import('./runOnce.js');
  const { MemoryCheckpointStore } = await import('./checkpoint/MemoryCheckpointStore.js');
  // A fixed range is a one-off: it must neither start from nor move the live checkpoint.
  const overrides = startMs !== undefined ? { checkpoints: new MemoryCheckpointStore('adhoc') } : {};
  const { progressWriter } = await import('./progress.js');
  const progress = progressWriter(process.stderr, () => Date.now());
  const summary = await runOnce(withLocalSettings(env), quietOnTerminal(stderrLogger), {
    window: startMs !== undefined ? { startMs, endMs } : undefined,
    dryRun: values['dry-run'],
    overrides,
    onProgress: (p) => progress.update(p),
  }).finally(() => progress.done());
  process.stdout.write(
    `${JSON.stringify({
      fetched: summary.fetched,
      sent: summary.sent,
      batches: summary.batches,
      flagged: summary.flagged,
      checkpoint: summary.checkpoint,
      moreToDo: summary.moreToDo,
    })}\n`,
  );
  return 0;
}

async function backfillCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      'budget-minutes': { type: 'string', default: '1440' },
      'dry-run': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const fromMs = parseTime('--from', values.from);
  const toMs = parseTime('--to', values.to);
  if (fromMs === undefined || toMs === undefined) throw new UsageError('backfill needs --from and --to.');
  if (toMs < fromMs) throw new UsageError('--to is before --from.');
  const budgetMinutes = Number(values['budget-minutes']);
  if (!Number.isInteger(budgetMinutes) || budgetMinutes < 1)
    throw new UsageError('--budget-minutes expects a whole number of minutes.');
  const { runBackfill } = await import('./backfill.js');
  const { progressWriter } = await import('./progress.js');
  const progress = progressWriter(process.stderr, () => Date.now());
  const result = await runBackfill(withLocalSettings(env), quietOnTerminal(stderrLogger), {
    fromMs,
    toMs,
    dryRun: values['dry-run'],
    timeBudgetMs: budgetMinutes * 60_000,
    onProgress: (p) => progress.update(p),
  }).finally(() => progress.done());
  const summary = result.summary;
  process.stdout.write(
    `${JSON.stringify({
      backfill: result.name,
      from: new Date(fromMs).toISOString(),
      to: new Date(result.endMs).toISOString(),
      fetched: summary?.fetched ?? 0,
      sent: summary?.sent ?? 0,
      batches: summary?.batches ?? 0,
      flagged: summary?.flagged ?? 0,
      checkpoint: summary?.checkpoint ?? null,
      complete: summary ? !summary.moreToDo : true,
    })}\n`,
  );
  return 0;
}

async function statusCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (args.includes('--all')) {
    const rest = args.filter((a) => a !== '--all');
    return (await import('./tenants/tenantCli.js')).statusAllCommand(rest, withLocalSettings(env));
  }
  const { values } = parseArgs({
    args: [...args],
    options: {
      'max-lag-minutes': { type: 'string', default: '30' },
      'no-backlog': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const maxLagMinutes = Number(values['max-lag-minutes']);
  if (!(maxLagMinutes > 0)) throw new UsageError('--max-lag-minutes expects a positive number.');
  const { readStatus, formatStatus } = await import('./status.js');
  const status = await readStatus(withLocalSettings(env), quietLogger(), {
    maxLagMinutes,
    backlog: !values['no-backlog'],
  });
  process.stdout.write(`${values.json ? JSON.stringify(status) : formatStatus(status)}\n`);
  return status.healthy ? 0 : 1;
}

/** On a terminal the live progress line replaces the per-page log lines; elsewhere every line is kept. */
function quietOnTerminal(log: Logger): Logger {
  if (!process.stderr.isTTY) return log;
  return { ...log, info: (message) => (/^Page \d+:/.test(message) ? undefined : log.info(message)) };
}

/** Status output is for people or probes: only warnings and errors reach stderr. */
function quietLogger(): Logger {
  return { info: () => undefined, warn: stderrLogger.warn, error: stderrLogger.error };
}

async function mapCommand(args: readonly string[]): Promise<number> {
  const source = args[0] ?? '-';
  if (args.length > 1) throw new UsageError('map takes one FILE (or - for stdin).');
  const text = source === '-' ? await readStdin() : readFileSync(source, 'utf8');
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source === '-' ? 'stdin' : source} is not JSON: ${ensureError(error).message}`);
  }
  const records = Array.isArray(input)
    ? input
    : typeof input === 'object' && input !== null && Array.isArray((input as { data?: unknown }).data)
      ? (input as { data: unknown[] }).data
      : [input];
  for (const raw of records) process.stdout.write(`${JSON.stringify(mapActivity(raw).record)}\n`);
  return 0;
}

/** Values of ./local.settings.json under the real environment (the environment wins), as `func start` does. */
function withLocalSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  let text: string;
  try {
    text = readFileSync('local.settings.json', 'utf8');
  } catch {
    return env;
  }
  const parsed = JSON.parse(text) as { Values?: Record<string, unknown> };
  const values = Object.fromEntries(
    Object.entries(parsed.Values ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
  return { ...values, ...env };
}

function parseTime(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(value))
    throw new UsageError(`${flag} expects an ISO 8601 time, got "${value}".`);
  return ms;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

class UsageError extends Error {
  override name = 'UsageError';
}

// Run only when executed (also through the npm bin symlink), not when a test imports main().
const isEntryPoint =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isEntryPoint) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const e = ensureError(error);
      const label = e instanceof ConfigError || e instanceof UsageError ? '' : `${e.name}: `;
      process.stderr.write(`${label}${e.message}\n`);
      process.exitCode = e instanceof UsageError ? 2 : 1;
    },
  );
}
