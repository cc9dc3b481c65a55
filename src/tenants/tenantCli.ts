// The command line of multi-tenant mode: `tenants validate`, `status --all` and `run --tenant KEY`. Each returns its
// exit code: 0 fine, 1 a problem found or a run failed (thrown), 2 bad usage (with a message on stderr).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { CLOUD_PROFILES, cloudProfile } from '../cloud.js';
import { ensureError } from '../errors.js';
import type { Logger } from '../logger.js';
import { describeLocation, loadRegistry, registryLocation } from './loadRegistry.js';
import { runTenant } from './runTenant.js';
import { formatAllTenantStatus, readAllTenantStatus } from './tenantStatus.js';
import { describeProblem, parseRegistry, type TenantRegistry } from './TenantRegistry.js';

export const TENANT_USAGE = `Many tenants (TENANT_REGISTRY set):
  tenants validate [--file PATH]
      Checks the tenant registry (TENANT_REGISTRY, or a local file before you upload it) and lists every problem by
      tenant key and field. Exit code 1 when any entry is invalid (that tenant would not run).
  status --all [--max-lag-minutes N] [--json]
      Every tenant's lag, last run and poisoned runs. Exit code 1 when any enabled tenant is unhealthy.
  run --tenant KEY [--dry-run]
      One ingestion cycle of that tenant now, with its own checkpoint (waits for nobody: if a run of that tenant is
      under way, it says so and exits with code 1).`;

/** Where a command writes: the process's stdout and stderr, or a test's recorder. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

export const PROCESS_OUTPUT: CliOutput = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

function usage(io: CliOutput, message: string): number {
  io.err(`${message}\n\n${TENANT_USAGE}\n`);
  return 2;
}

/** `tenants <subcommand>` */
export async function tenantsCommand(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CliOutput = PROCESS_OUTPUT,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'validate') return usage(io, `Unknown tenants command "${sub ?? ''}".`);
  let values: { file?: string | undefined };
  try {
    ({ values } = parseArgs({ args: [...rest], options: { file: { type: 'string' } }, strict: true }));
  } catch (error) {
    return usage(io, ensureError(error).message);
  }
  let registry: TenantRegistry;
  let where: string;
  if (values.file !== undefined) {
    where = `file ${values.file}`;
    registry = parseRegistry(
      await readFile(values.file, 'utf8'),
      cloudProfile(env['AZURE_CLOUD']) ?? CLOUD_PROFILES.public,
    );
  } else {
    const location = registryLocation(env);
    if (location === undefined) return usage(io, 'TENANT_REGISTRY is not set; give the registry with --file PATH.');
    where = describeLocation(location);
    const { lazyIdentity } = await import('./lazyIdentity.js');
    registry = await loadRegistry(env, lazyIdentity(env));
  }
  const lines = [`Registry ${where}:`];
  for (const t of registry.tenants) {
    lines.push(`  ok       ${t.key}${t.enabled ? '' : ' (disabled)'}: ${t.auth.kind}, ${t.sink.kind}, ${t.portalUrl}`);
  }
  for (const problem of registry.problems) lines.push(`  INVALID  ${describeProblem(problem)}`);
  const invalid = new Set(registry.problems.map((p) => p.tenant)).size;
  lines.push(
    invalid === 0
      ? `${registry.tenants.length} tenants, all valid.`
      : `${invalid} invalid entries (they do not run); ${registry.tenants.length} valid.`,
  );
  io.out(`${lines.join('\n')}\n`);
  return invalid === 0 ? 0 : 1;
}

/** `status --all` (the `--all` already taken off `args`). */
export async function statusAllCommand(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CliOutput = PROCESS_OUTPUT,
): Promise<number> {
  let values: { 'max-lag-minutes'?: string | undefined; json?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { 'max-lag-minutes': { type: 'string', default: '30' }, json: { type: 'boolean' } },
      strict: true,
    }));
  } catch (error) {
    return usage(io, ensureError(error).message);
  }
  const maxLagMinutes = Number(values['max-lag-minutes']);
  if (!(maxLagMinutes > 0)) return usage(io, '--max-lag-minutes expects a positive number.');
  const status = await readAllTenantStatus(env, { maxLagMinutes });
  io.out(`${values.json ? JSON.stringify(status) : formatAllTenantStatus(status)}\n`);
  return status.healthy ? 0 : 1;
}

/** `run --tenant KEY [--dry-run]`: one tenant's run; the last stdout line is a JSON summary with the tenant key. */
export async function runTenantCommand(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  log: Logger,
  io: CliOutput = PROCESS_OUTPUT,
): Promise<number> {
  let values: { tenant?: string | undefined; 'dry-run'?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { tenant: { type: 'string' }, 'dry-run': { type: 'boolean' } },
      strict: true,
    }));
  } catch (error) {
    return usage(io, `${ensureError(error).message} (run --tenant takes only --dry-run besides)`);
  }
  if (values.tenant === undefined || values.tenant === '') return usage(io, '--tenant needs a tenant key.');
  const result = await runTenant(env, values.tenant, log, { dryRun: values['dry-run'] ?? false });
  if (result.outcome === 'skipped') {
    io.err(`Tenant ${result.tenant} was not run: ${result.reason}.\n`);
    return 1;
  }
  const s = result.summary;
  io.out(
    `${JSON.stringify({ tenant: result.tenant, fetched: s.fetched, sent: s.sent, batches: s.batches, flagged: s.flagged, checkpoint: s.checkpoint, moreToDo: s.moreToDo })}\n`,
  );
  return 0;
}
