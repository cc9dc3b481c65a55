// The multi-tenant commands, with the registry and checkpoints in local files: in this process through their module,
// and once through the built CLI in a child process to prove it routes to them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { RecordingLogger } from '../../src/logger.js';
import { type CliOutput, runTenantCommand, statusAllCommand, tenantsCommand } from '../../src/tenants/tenantCli.js';
import {
  closeTenantStacks,
  startTenantStacks,
  type TenantStack,
  tenantSecretSettings,
} from '../helpers/tenantStacks.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs a command of the module with its output recorded. */
async function command(
  run: (io: CliOutput) => Promise<number>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run({ out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('cli tenants validate, run --tenant, status --all', () => {
  let dir: string;
  let stacks: TenantStack[];
  let env: Record<string, string>;
  let goodRegistry: string;
  let mixedRegistry: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tenant-cli-'));
    stacks = await startTenantStacks(
      [
        { key: 'alpha', count: 120 },
        { key: 'bravo', count: 80 },
      ],
      Date.now(),
    );
    goodRegistry = join(dir, 'tenants.json');
    mixedRegistry = join(dir, 'tenants-mixed.json');
    const entries = stacks.map((s) => s.entry);
    await writeFile(goodRegistry, JSON.stringify({ tenants: entries }));
    await writeFile(
      mixedRegistry,
      JSON.stringify({ tenants: [...entries, { ...entries[0], key: 'charlie', auth: { kind: 'token' } }] }),
    );
    env = {
      TENANT_REGISTRY: `file:${goodRegistry}`,
      CHECKPOINT_STORE: `file:${join(dir, 'checkpoints')}`,
      CREATED_SETTLE_SECONDS: '0',
      MCAS_MAX_REQUESTS_PER_MINUTE: '1000000',
      ...tenantSecretSettings(stacks),
    };
  });
  after(async () => {
    await closeTenantStacks(stacks);
    await rm(dir, { recursive: true, force: true });
  });

  it('validates a registry file, naming each bad entry by tenant and field, with exit code 1', async () => {
    const bad = await command((io) => tenantsCommand(['validate', '--file', mixedRegistry], env, io));
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stdout, /INVALID {2}tenant charlie: auth\.tokenSecretName: is required/);
    assert.match(bad.stdout, /ok {7}alpha: token, dataCollector/);
    assert.match(bad.stdout, /1 invalid entries \(they do not run\); 2 valid\./);
    const good = await command((io) => tenantsCommand(['validate'], env, io));
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /2 tenants, all valid\./);
  });

  it("runs one tenant now, touching no other tenant's services, and reports every tenant's health", async () => {
    const statusAll = (args: string[], settings = env) => command((io) => statusAllCommand(args, settings, io));
    const runTenant = (args: string[]) =>
      command((io) => runTenantCommand(['--tenant', ...args], env, new RecordingLogger(), io));
    const before = await statusAll(['--json']);
    assert.equal(before.code, 1, 'no tenant has a checkpoint yet');

    const run = await runTenant(['alpha']);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    assert.equal(summary['tenant'], 'alpha');
    assert.equal(summary['sent'], 120);
    const [alpha, bravo] = stacks as [TenantStack, TenantStack];
    assert.equal(alpha.logAnalytics.rows().length, 120);
    assert.equal(bravo.mcas.requests.length + bravo.logAnalytics.requests.length, 0);

    const half = await statusAll(['--json']);
    assert.equal(half.code, 1, 'bravo has not run');
    const status = JSON.parse(half.stdout) as { tenants: { tenant: string; state: string; lastOutcome?: string }[] };
    assert.deepEqual(
      status.tenants.map((t) => [t.tenant, t.state, t.lastOutcome]),
      [
        ['alpha', 'ok', 'succeeded'],
        ['bravo', 'unhealthy', undefined],
      ],
    );

    const mixed = await statusAll([], { ...env, TENANT_REGISTRY: `file:${mixedRegistry}` });
    assert.equal(mixed.code, 1);
    assert.match(mixed.stdout, /^charlie +NOT OK .*Invalid registry entry: tenant charlie: auth\.tokenSecretName/m);
  });

  it('refuses an unknown tenant and a missing key', async () => {
    await assert.rejects(
      command((io) => runTenantCommand(['--tenant', 'zulu'], env, new RecordingLogger(), io)),
      /Tenant zulu is not in the tenant registry/,
    );
    const missing = await command((io) => runTenantCommand(['--tenant'], env, new RecordingLogger(), io));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--tenant/);
  });

  it('is reached through the command line: tenants validate, run --tenant, status --all', async () => {
    const validate = await cli(['tenants', 'validate'], env);
    assert.equal(validate.code, 0, validate.stderr);
    assert.match(validate.stdout, /2 tenants, all valid\./);
    const run = await cli(['run', '--tenant', 'bravo'], env);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { tenant?: unknown };
    assert.equal(summary.tenant, 'bravo');
    const all = await cli(['status', '--all'], env);
    assert.equal(all.code, 0, all.stdout);
    assert.match(all.stdout, /^alpha +OK +\d+(\.\d)? min +succeeded /m);
    assert.match(all.stdout, /All tenants healthy\./);
  });
});
