#!/usr/bin/env node
// The command line: `run` (one ingestion cycle) and `map` (show how records map to rows). Settings come from the
// environment and, like `func start`, from the Values of ./local.settings.json when that file exists.
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { ConfigError, ensureError } from './errors.js';
import { stderrLogger } from './logger.js';
import { mapActivity } from './mapping/toLogRecord.js';

const USAGE = `Usage: mcas-activity-connector <command> [options]

Commands:
  run [--since ISO] [--until ISO] [--dry-run]
      One ingestion cycle. Without --since it continues from the checkpoint and saves it; with --since/--until it
      reads that fixed 'created' range and neither reads nor moves the live checkpoint. --dry-run fetches and maps
      but sends nothing. The last stdout line is a JSON summary.
  map [FILE|-]
      Reads one MCAS activity, an array of them, or an API page ({"data": [...]}) from FILE or stdin and prints one
      mapped row per line as JSON.

Settings are app settings (see README); ./local.settings.json Values are used when present.`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return runCommand(rest, env);
    case 'map':
      return mapCommand(rest);
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
  const { values } = parseArgs({
    args: [...args],
    options: { since: { type: 'string' }, until: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: false,
  });
  const startMs = parseTime('--since', values.since);
  const endMs = parseTime('--until', values.until);
  if (endMs !== undefined && startMs === undefined) throw new UsageError('--until needs --since.');
  if (startMs !== undefined && endMs !== undefined && endMs < startMs) throw new UsageError('--until is before --since.');

  const { runOnce } = await import('./runOnce.js');
  const { MemoryCheckpointStore } = await import('./checkpoint/MemoryCheckpointStore.js');
  // A fixed range is a one-off: it must neither start from nor move the live checkpoint.
  const overrides = startMs !== undefined ? { checkpoints: new MemoryCheckpointStore('adhoc') } : {};
  const summary = await runOnce(withLocalSettings(env), stderrLogger, {
    window: startMs !== undefined ? { startMs, endMs } : undefined,
    dryRun: values['dry-run'],
    overrides,
  });
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
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(value)) throw new UsageError(`${flag} expects an ISO 8601 time, got "${value}".`);
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
const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
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
