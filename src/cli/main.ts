// The commands: `run` (one ingestion cycle), `backfill`, `status` and `map`. Settings come from the environment and,
// like `func start`, from the Values of ./local.settings.json. Loaded by src/cli.ts once the Node version is known to
// be good; the run's modules are imported only by the commands that need them.
import { readFileSync } from 'node:fs';

import { ConfigError, ensureError, errorCode } from '../errors.js';
import { type Logger, stderrLogger } from '../logger.js';
import type { ProgressWriter } from '../progress.js';
import type { McasWait } from '../wiring.js';
import { ACTIVITIES, ALERTS, type StreamSpec } from '../streams.js';
import { LocalSettingsError, withLocalSettings } from './localSettings.js';
import {
  type CommandName,
  COMMANDS,
  isHelp,
  parseCommandArgs,
  parsePositive,
  parseStreamName,
  parseTime,
  USAGE,
  UsageError,
} from './usage.js';

/** Runs one command line; returns the exit code. Errors are printed here, never thrown. */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    return await dispatch(argv, env);
  } catch (error) {
    const e = ensureError(error);
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n\n${e.usage}\n`);
      return 2;
    }
    const label = e instanceof ConfigError || e instanceof LocalSettingsError ? '' : `${e.name}: `;
    process.stderr.write(`${label}${e.message}\n`);
    return 1;
  }
}

async function dispatch(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (command === '-h' || command === '--help' || command === 'help') {
    const topic = rest[0];
    process.stdout.write(`${topic !== undefined && topic in COMMANDS ? commandHelp(topic as CommandName) : USAGE}\n`);
    return 0;
  }
  if (command === 'tenants')
    return (await import('../tenants/tenantCli.js')).tenantsCommand(rest, withLocalSettings(env));
  if (!(command in COMMANDS)) throw new UsageError(`Unknown command "${command}".`);
  const name = command as CommandName;
  if (isHelp(rest)) {
    process.stdout.write(`${commandHelp(name)}\n`);
    return 0;
  }
  switch (name) {
    case 'run':
      return runCommand(rest, env);
    case 'backfill':
      return backfillCommand(rest, env);
    case 'status':
      return statusCommand(rest, env);
    case 'map':
      return mapCommand(rest);
  }
}

function commandHelp(name: CommandName): string {
  return `Usage: ${COMMANDS[name].usage}`;
}

function streamSpec(name: 'activities' | 'alerts'): StreamSpec {
  return name === 'alerts' ? ALERTS : ACTIVITIES;
}

async function runCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (args.some((a) => a === '--tenant' || a.startsWith('--tenant=')))
    return (await import('../tenants/tenantCli.js')).runTenantCommand(args, withLocalSettings(env), stderrLogger);
  const spec = COMMANDS.run;
  const { values } = parseCommandArgs(spec, args);
  const stream = streamSpec(parseStreamName(values['stream'], spec));
  const startMs = parseTime('--since', values['since'], spec);
  const endMs = parseTime('--until', values['until'], spec);
  if (endMs !== undefined && startMs === undefined) throw new UsageError('--until needs --since.', spec.usage);
  if (startMs !== undefined && endMs !== undefined && endMs < startMs)
    throw new UsageError('--until is before --since.', spec.usage);
  const dryRun = values['dry-run'] === true;
  const settings = withLocalSettings(env);

  const { runOnce } = await import('../runOnce.js');
  const { MemoryCheckpointStore } = await import('../checkpoint/MemoryCheckpointStore.js');
  const progress = await startProgress(settings);
  // A fixed range is a one-off: it must neither start from nor move the live checkpoint.
  const fixedRange = startMs !== undefined;
  const overrides = {
    onWait: (wait: McasWait) => progress.wait(wait),
    ...(fixedRange ? { checkpoints: new MemoryCheckpointStore('adhoc') } : {}),
  };
  const summary = await runOnce(settings, progress.logger(quietOnTerminal(stderrLogger)), {
    stream,
    window: fixedRange ? { startMs, endMs } : undefined,
    dryRun,
    overrides,
    onProgress: (p) => progress.update(p),
  }).finally(() => progress.done());
  writeJson({
    stream: stream.name,
    fetched: summary.fetched,
    sent: summary.sent,
    batches: summary.batches,
    flagged: summary.flagged,
    // The live checkpoint after the run; a fixed range or a dry run saves none.
    checkpoint: fixedRange || dryRun ? null : summary.checkpoint,
    moreToDo: summary.moreToDo,
  });
  return 0;
}

async function backfillCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const spec = COMMANDS.backfill;
  const { values } = parseCommandArgs(spec, args);
  const stream = streamSpec(parseStreamName(values['stream'], spec));
  const fromMs = parseTime('--from', values['from'], spec);
  const toMs = parseTime('--to', values['to'], spec);
  if (fromMs === undefined || toMs === undefined) throw new UsageError('backfill needs --from and --to.', spec.usage);
  if (toMs < fromMs) throw new UsageError('--to is before --from.', spec.usage);
  const budgetMinutes = parsePositive('--budget-minutes', values['budget-minutes'], 1440, spec, true);
  const dryRun = values['dry-run'] === true;
  const settings = withLocalSettings(env);

  const { runBackfill } = await import('../backfill.js');
  const progress = await startProgress(settings);
  const result = await runBackfill(settings, progress.logger(quietOnTerminal(stderrLogger)), {
    stream,
    overrides: { onWait: (wait: McasWait) => progress.wait(wait) },
    fromMs,
    toMs,
    dryRun,
    timeBudgetMs: budgetMinutes * 60_000,
    onProgress: (p) => progress.update(p),
  }).finally(() => progress.done());
  const summary = result.summary;
  writeJson({
    backfill: result.name,
    stream: stream.name,
    from: new Date(fromMs).toISOString(),
    to: new Date(result.endMs).toISOString(),
    fetched: summary?.fetched ?? 0,
    sent: summary?.sent ?? 0,
    batches: summary?.batches ?? 0,
    flagged: summary?.flagged ?? 0,
    // The backfill's own checkpoint; a dry run saves none.
    checkpoint: dryRun ? null : (summary?.checkpoint ?? null),
    complete: summary ? !summary.moreToDo : true,
  });
  return 0;
}

async function statusCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (args.includes('--all')) {
    const rest = args.filter((a) => a !== '--all');
    return (await import('../tenants/tenantCli.js')).statusAllCommand(rest, withLocalSettings(env));
  }
  const spec = COMMANDS.status;
  const { values } = parseCommandArgs(spec, args);
  const stream = streamSpec(parseStreamName(values['stream'], spec));
  const maxLagMinutes = parsePositive('--max-lag-minutes', values['max-lag-minutes'], 30, spec);
  const settings = withLocalSettings(env);
  const { readStatus, formatStatus } = await import('../status.js');
  const status = await readStatus(settings, quietLogger(), {
    stream,
    maxLagMinutes,
    backlog: values['no-backlog'] !== true,
  });
  process.stdout.write(`${values['json'] === true ? JSON.stringify(status) : formatStatus(status)}\n`);
  return status.healthy ? 0 : 1;
}

async function mapCommand(args: readonly string[]): Promise<number> {
  const spec = COMMANDS.map;
  const { values, positionals } = parseCommandArgs(spec, args);
  const stream = streamSpec(parseStreamName(values['stream'], spec));
  const other = stream === ALERTS ? ACTIVITIES : ALERTS;
  const source = positionals[0] ?? '-';
  const text = source === '-' ? await readStdin() : readInputFile(source);
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source === '-' ? 'stdin' : source} is not JSON: ${ensureError(error).message}`, spec.usage);
  }
  const records = Array.isArray(input)
    ? input
    : typeof input === 'object' && input !== null && Array.isArray((input as { data?: unknown }).data)
      ? (input as { data: unknown[] }).data
      : [input];
  records.forEach((raw, index) => {
    const mapped = stream.map(raw);
    if (mapped.flagged && !other.map(raw).flagged) {
      stderrLogger.warn(
        `Record ${index + 1} is not a valid ${singular(stream)} but is a valid ${singular(other)}; ` +
          `use --stream ${other.name}. Its flagged ${singular(stream)} row follows.`,
      );
    }
    process.stdout.write(`${JSON.stringify(mapped.record)}\n`);
  });
  return 0;
}

function singular(stream: StreamSpec): string {
  return stream === ALERTS ? 'alert' : 'activity';
}

/** A FILE argument's text; a missing file or a folder is the user's mistake (exit 2), not a crash. */
function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a folder; give a JSON file, or - for stdin'
          : code === 'EACCES'
            ? 'cannot be read (permission denied)'
            : `cannot be read (${typeof code === 'string' ? code : ensureError(error).message})`;
    throw new UsageError(`${path} ${why}.`, COMMANDS.map.usage);
  }
}

function writeJson(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** The progress display on stderr. Settings are read here only for the request limit; runOnce checks them all. */
async function startProgress(settings: NodeJS.ProcessEnv): Promise<ProgressWriter> {
  const [{ readConfig }, { progressWriter }] = await Promise.all([import('../config.js'), import('../progress.js')]);
  const requestsPerMinute = readConfig(settings).mcas.maxRequestsPerMinute;
  return progressWriter(process.stderr, () => Date.now(), { requestsPerMinute });
}

/** On a terminal the live progress line replaces the per-page log lines; elsewhere every line is kept. */
function quietOnTerminal(log: Logger): Logger {
  if (!process.stderr.isTTY) return log;
  return {
    ...log,
    info: (message) => {
      if (!/^Page \d+:/.test(message)) log.info(message);
    },
  };
}

/** Status output is for people or probes: only warnings and errors reach stderr. */
function quietLogger(): Logger {
  return { info: () => undefined, warn: stderrLogger.warn, error: stderrLogger.error };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
