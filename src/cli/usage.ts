// What each command accepts, its usage text, and the parsing of its arguments into values or a UsageError that says
// what was wrong. Pure: no I/O.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec {
  name: string;
  /** Synopsis and description, as printed by `<command> --help` and after a usage error. */
  usage: string;
  options: OptionsConfig;
  /** How many positional arguments the command takes (map: one FILE). */
  maxPositionals: number;
}

const STREAM = '[--stream activities|alerts]';

export const COMMANDS = {
  run: {
    name: 'run',
    usage: `mcas-activity-connector run ${STREAM} [--since ISO [--until ISO]] [--dry-run]

  One ingestion cycle. Without --since it continues from the stream's checkpoint and saves it. With --since (and
  --until, default now minus CREATED_SETTLE_SECONDS) it reads that fixed range once and neither reads nor moves the
  checkpoint. --dry-run fetches and maps but sends and saves nothing. Progress goes to stderr; the last stdout line
  is a JSON summary.`,
    options: {
      stream: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
    maxPositionals: 0,
  },
  backfill: {
    name: 'backfill',
    usage: `mcas-activity-connector backfill --from ISO --to ISO ${STREAM} [--budget-minutes N] [--dry-run]

  Loads a historical range with its own checkpoint (run the same command again to resume), leaving out what the
  live stream already covers. --budget-minutes (default 1440) bounds this invocation. Progress goes to stderr; the
  last stdout line is a JSON summary.`,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      stream: { type: 'string' },
      'budget-minutes': { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
    maxPositionals: 0,
  },
  status: {
    name: 'status',
    usage: `mcas-activity-connector status ${STREAM} [--max-lag-minutes N] [--no-backlog] [--json]

  The checkpoint, its lag behind now, the last run and the backlog in MCAS. Exit code 1 when the lag is above
  --max-lag-minutes (default 30), the last run failed, or there is no checkpoint: usable as a health probe.`,
    options: {
      stream: { type: 'string' },
      'max-lag-minutes': { type: 'string' },
      'no-backlog': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    maxPositionals: 0,
  },
  map: {
    name: 'map',
    usage: `mcas-activity-connector map ${STREAM} [FILE|-]

  Reads one MCAS record, an array of them, or an API page ({"data": [...]}) from FILE, or from stdin when FILE is -
  or absent, and prints one mapped row per line as JSON.`,
    options: { stream: { type: 'string' } },
    maxPositionals: 1,
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export const USAGE = `Usage: mcas-activity-connector <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((spec) => `  ${spec.usage.split('\n')[0]?.replace('mcas-activity-connector ', '')}`)
  .join('\n')}

Many tenants (TENANT_REGISTRY): tenants validate [--file PATH], status --all, run --tenant KEY (see README).

Run "mcas-activity-connector <command> --help" for what a command does. Settings are app settings (see README);
the Values of ./local.settings.json are used when that file exists.`;

/** Bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  /** "Usage: …" of the command that was misused; the general usage when no command was recognised. */
  readonly usage: string;
  /** `commandUsage` is a CommandSpec's usage. */
  constructor(message: string, commandUsage?: string) {
    super(message);
    this.usage = commandUsage === undefined ? USAGE : `Usage: ${commandUsage}`;
  }
}

export function isHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

/**
 * The command's option values and positionals. Throws UsageError for an unknown option, a missing value, an
 * argument the command does not take, or a value given to a flag; never node's own TypeError.
 */
export function parseCommandArgs(
  spec: CommandSpec,
  args: readonly string[],
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options: spec.options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(describeParseError(spec, error), spec.usage);
  }
  const { positionals } = parsed;
  if (positionals.length > spec.maxPositionals) {
    const extra = positionals.slice(spec.maxPositionals).map((p) => `"${p}"`);
    const takes = spec.maxPositionals === 0 ? 'takes no arguments' : `takes at most ${spec.maxPositionals} argument`;
    throw new UsageError(`${spec.name} ${takes}; got ${extra.join(' ')}.`, spec.usage);
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, positionals };
}

/** node:util's parse errors, reworded: they carry a code, and their text suggests `--` tricks a user does not need. */
function describeParseError(spec: CommandSpec, error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `${spec.name} has no option ${option ?? message}.`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing|ambiguous/.test(message)) return `${option ?? 'An option'} needs a value.`;
      if (/does not take an argument/.test(message)) return `${option ?? 'A flag'} takes no value.`;
      return message;
    default:
      return message;
  }
}

/** --stream: activities (the default) or alerts. */
export function parseStreamName(value: string | boolean | undefined, spec: CommandSpec): 'activities' | 'alerts' {
  if (value === undefined) return 'activities';
  if (value === 'activities' || value === 'alerts') return value;
  throw new UsageError(`--stream expects activities or alerts, got "${String(value)}".`, spec.usage);
}

/** An ISO 8601 time (at least a date) as epoch ms; undefined when the option was not given. */
export function parseTime(flag: string, value: string | boolean | undefined, spec: CommandSpec): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(text))
    throw new UsageError(`${flag} expects an ISO 8601 time such as 2026-01-31T00:00:00Z, got "${text}".`, spec.usage);
  return ms;
}

/** A positive number option (`--max-lag-minutes 30`); `whole` also refuses fractions. */
export function parsePositive(
  flag: string,
  value: string | boolean | undefined,
  fallback: number,
  spec: CommandSpec,
  whole = false,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n) || (whole && !Number.isInteger(n)))
    throw new UsageError(
      `${flag} expects a positive ${whole ? 'whole ' : ''}number, got "${String(value)}".`,
      spec.usage,
    );
  return n;
}
