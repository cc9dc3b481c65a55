import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { generateActivities } from '../emulators/activityGenerator.js';
import { FAKE_MCAS_TOKEN, FAKE_WORKSPACE_KEY, type LocalStack, startLocalStack } from '../emulators/localStack.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI in a child process (asynchronously, so the emulators in this process keep answering). */
function cli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: string } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: options.cwd ?? process.cwd(), env: { PATH: process.env['PATH'] ?? '', ...options.env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.stdin ?? '');
  });
}

function lastJsonLine(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

describe('cli map', () => {
  it('prints one mapped row per record of an API page read from stdin', async () => {
    const page = {
      data: generateActivities({ count: 3, startCreatedMs: Date.UTC(2026, 0, 1), seed: 3 }),
      hasNext: false,
      total: 3,
    };
    const result = await cli(['map', '-'], { stdin: JSON.stringify(page) });
    assert.equal(result.code, 0, result.stderr);
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      rows.map((r) => r['ActivityId']),
      page.data.map((a) => a['_id']),
    );
    assert.ok(rows.every((r) => typeof r['ActivityTime'] === 'string' && typeof r['CreatedTime'] === 'string'));
  });

  it('maps a single record and an array from a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-map-'));
    after(() => rm(dir, { recursive: true, force: true }));
    const [record] = generateActivities({ count: 1, startCreatedMs: Date.UTC(2026, 0, 1), seed: 4 });
    await writeFile(join(dir, 'one.json'), JSON.stringify(record));
    await writeFile(join(dir, 'many.json'), JSON.stringify([record, record]));
    assert.equal((await cli(['map', join(dir, 'one.json')])).stdout.trim().split('\n').length, 1);
    assert.equal((await cli(['map', join(dir, 'many.json')])).stdout.trim().split('\n').length, 2);
  });

  it('rejects input that is not JSON with a clear message and exit code 2', async () => {
    const result = await cli(['map', '-'], { stdin: '<html>Service unavailable</html>' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /stdin is not JSON/);
    assert.equal(result.stdout, '');
  });

  it('answers an unknown command with the usage and exit code 2', async () => {
    const result = await cli(['ingest']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Unknown command "ingest"/);
    assert.match(result.stderr, /run \[--since ISO\]/);
  });
});

describe('cli run', () => {
  const activities = generateActivities({
    count: 420,
    startCreatedMs: Date.now() - 4 * 3600_000,
    seed: 12,
    spanMs: 3 * 3600_000,
  });
  let stack: LocalStack;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    stack = await startLocalStack({ activities });
    dir = await mkdtemp(join(tmpdir(), 'cli-run-'));
    env = { ...stack.settings, CHECKPOINT_STORE: `file:${join(dir, 'checkpoints')}` };
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fetches and maps on --dry-run without sending or writing a checkpoint', async () => {
    const result = await cli(['run', '--dry-run'], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(lastJsonLine(result.stdout), { ...lastJsonLine(result.stdout), fetched: 420, sent: 0 });
    assert.equal(stack.logAnalytics.requests.length, 0);
    assert.equal(existsSync(join(dir, 'checkpoints', 'activities.json')), false);
  });

  it('runs one cycle, prints a JSON summary last, and saves the checkpoint', async () => {
    const result = await cli(['run'], { env });
    assert.equal(result.code, 0, result.stderr);
    const summary = lastJsonLine(result.stdout);
    assert.equal(summary['fetched'], 420);
    assert.equal(summary['sent'], 420);
    assert.equal(summary['flagged'], 0);
    assert.equal(typeof summary['batches'], 'number');
    assert.match(String(summary['checkpoint']), /^\d{4}-\d{2}-\d{2}T/);
    const stored = JSON.parse(await readFile(join(dir, 'checkpoints', 'activities.json'), 'utf8')) as {
      cursor: number;
    };
    assert.equal(new Date(stored.cursor).toISOString(), summary['checkpoint']);
    assert.match(result.stderr, /Page 1: /);
    assert.match(result.stderr, /Secrets were read from app settings/);
  });

  it('sends nothing the second time', async () => {
    const result = await cli(['run'], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(lastJsonLine(result.stdout)['sent'], 0);
    assert.equal(stack.logAnalytics.rows().length, 420);
  });

  it('reads a fixed --since/--until range without moving the live checkpoint', async () => {
    const path = join(dir, 'checkpoints', 'activities.json');
    const before = await readFile(path, 'utf8');
    const since = new Date(activities[0]?.['created'] as number).toISOString();
    const until = new Date(activities[99]?.['created'] as number).toISOString();
    const result = await cli(['run', '--since', since, '--until', until], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.ok((lastJsonLine(result.stdout)['sent'] as number) >= 100);
    assert.equal(await readFile(path, 'utf8'), before);
  });

  it('takes its settings from ./local.settings.json like func start', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'cli-local-'));
    after(() => rm(cwd, { recursive: true, force: true }));
    await writeFile(join(cwd, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values: env }));
    const result = await cli(['run', '--dry-run'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(lastJsonLine(result.stdout)['fetched'], 0);
  });

  it('exits 1 naming every bad setting, with no secret in the output', async () => {
    const result = await cli(['run'], {
      env: { ...env, LOG_ANALYTICS_WORKSPACE_ID: 'x', MCAS_PORTAL_URL: 'http://example.com' },
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /LOG_ANALYTICS_WORKSPACE_ID/);
    assert.match(result.stderr, /MCAS_PORTAL_URL/);
    assert.doesNotMatch(result.stderr + result.stdout, new RegExp(FAKE_MCAS_TOKEN));
    assert.doesNotMatch(result.stderr + result.stdout, new RegExp(FAKE_WORKSPACE_KEY.slice(0, 16)));
  });

  it('rejects a malformed --since with exit code 2', async () => {
    const result = await cli(['run', '--since', 'yesterday'], { env });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--since expects an ISO 8601 time/);
  });
});
