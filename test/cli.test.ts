import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { generateActivities } from '../emulators/activityGenerator.js';
import { generateAlerts } from '../emulators/alertGenerator.js';
import { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME } from '../emulators/azurite.js';
import { FAKE_MCAS_TOKEN, FAKE_WORKSPACE_KEY, type LocalStack, startLocalStack } from '../emulators/localStack.js';
import { closedPort } from './helpers/closedPort.js';

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

/** Runs `file args` and gathers its output; the CLI tests run Node in child processes through this. */
function run(file: string, args: string[], cwd?: string): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(
      file,
      args,
      { cwd: cwd ?? process.cwd(), env: { PATH: process.env['PATH'] ?? '' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** The first `node` on PATH that is not the project's own (node_modules/.bin): the node a user types. */
function findNodeOutsideProject(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '' || dir.includes('node_modules')) continue;
    const candidate = join(dir, 'node');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
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
    assert.match(result.stderr, /run \[--stream activities\|alerts\] \[--since ISO/);
  });

  it('maps an alert with --stream alerts, and says so when an alert is mapped as an activity', async () => {
    const alert = await readFile(new URL('../../test/fixtures/alerts/impossible-travel.json', import.meta.url), 'utf8');
    const asAlert = await cli(['map', '--stream', 'alerts', '-'], { stdin: alert });
    assert.equal(asAlert.code, 0, asAlert.stderr);
    const row = JSON.parse(asAlert.stdout) as Record<string, unknown>;
    assert.equal(row['AlertId'], '65a1c2d3e4f5061728394a5b');
    assert.equal(row['AlertTitle'], 'Impossible travel activity');
    assert.notEqual(row['IsFlagged'], true);
    assert.equal(asAlert.stderr, '');

    const asActivity = await cli(['map', '-'], { stdin: alert });
    assert.equal(asActivity.code, 0, asActivity.stderr);
    assert.equal((JSON.parse(asActivity.stdout) as Record<string, unknown>)['IsFlagged'], true);
    assert.match(asActivity.stderr, /Record 1 is not a valid activity but is a valid alert; use --stream alerts/);
  });
});

describe('cli usage', { concurrency: true }, () => {
  const cases: { args: string[]; message: RegExp; usage: RegExp }[] = [
    {
      args: ['run', '--bogus'],
      message: /^run has no option --bogus\.$/m,
      usage: /^Usage: mcas-activity-connector run /m,
    },
    { args: ['run', '--since'], message: /^--since needs a value\.$/m, usage: /^Usage: mcas-activity-connector run /m },
    {
      args: ['run', 'now'],
      message: /^run takes no arguments; got "now"\.$/m,
      usage: /^Usage: mcas-activity-connector run /m,
    },
    { args: ['run', '--dry-run=yes'], message: /^--dry-run takes no value\.$/m, usage: /run \[--stream/ },
    {
      args: ['run', '--stream', 'users'],
      message: /--stream expects activities or alerts, got "users"/,
      usage: /run \[--stream/,
    },
    { args: ['run', '--until', '2026-01-01'], message: /--until needs --since/, usage: /run \[--stream/ },
    {
      args: ['backfill', '--from', '2026-01-01'],
      message: /backfill needs --from and --to/,
      usage: /backfill --from ISO/,
    },
    {
      args: ['backfill', '--from', '2026-01-02', '--to', '2026-01-01'],
      message: /--to is before --from/,
      usage: /backfill --from/,
    },
    {
      args: ['backfill', '--from', '2026-01-01', '--to', '2026-01-02', '--budget-minutes', '1.5'],
      message: /--budget-minutes expects a positive whole number, got "1.5"/,
      usage: /backfill --from/,
    },
    {
      args: ['status', '--max-lag-minutes', 'soon'],
      message: /--max-lag-minutes expects a positive number/,
      usage: /status \[--stream/,
    },
    {
      args: ['map', 'missing.json'],
      message: /^missing\.json does not exist\.$/m,
      usage: /^Usage: mcas-activity-connector map /m,
    },
    { args: ['map', '.'], message: /^\. is a folder; give a JSON file, or - for stdin\.$/m, usage: /map \[--stream/ },
    {
      args: ['map', 'a.json', 'b.json'],
      message: /map takes at most 1 argument; got "b\.json"/,
      usage: /map \[--stream/,
    },
  ];
  for (const { args, message, usage } of cases) {
    it(`answers "${args.join(' ')}" with what was wrong, the command's usage and exit code 2`, async () => {
      const result = await cli(args);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.match(result.stderr, usage);
      assert.doesNotMatch(result.stderr, /TypeError|ERR_PARSE_ARGS|ENOENT|EISDIR|\bat \S+:\d+/);
      assert.equal(result.stdout, '');
    });
  }

  it('prints the usage of every command for --help and -h, with exit code 0', async () => {
    const runs = ['run', 'backfill', 'status', 'map'].flatMap((command) =>
      ['--help', '-h'].map(async (flag) => ({ command, result: await cli([command, flag]) })),
    );
    for (const { command, result } of await Promise.all(runs)) {
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^Usage: mcas-activity-connector ${command} `));
    }
    const general = await cli(['--help']);
    assert.equal(general.code, 0);
    assert.match(general.stdout, /^Usage: mcas-activity-connector <command>/);
  });
});

describe('cli as the package bin', () => {
  it('is an executable script that runs with the node on PATH, as npx runs it', async () => {
    assert.ok((statSync(CLI).mode & 0o111) !== 0, 'npm run build leaves dist/src/cli.js executable');
    const path = [dirname(process.execPath), process.env['PATH'] ?? ''].join(delimiter);
    const result = await new Promise<CliResult>((resolvePromise) => {
      execFile(CLI, ['map', '--help'], { env: { PATH: path } }, (error, stdout, stderr) => {
        resolvePromise({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: mcas-activity-connector map /);
  });
});

describe('cli on Node 20', () => {
  const message =
    /^mcas-activity-connector needs Node\.js 22\.19 or later, and this is Node\.js 20\.\d+\.\d+\. Run it through npm, which uses the project's Node 22 \(after npm ci\): npx mcas-activity-connector run --since 2026-01-01 --until 'a b'\n$/;

  it('prints one line naming Node 22 and the npx command, and exits 1, before loading the connector', async () => {
    // Node 22 pretending to be Node 20: the entry point must decide on the version alone, before importing undici.
    const preload = `data:text/javascript,Object.defineProperty(process.versions,'node',{value:'20.20.2'});`;
    const result = await run(process.execPath, [
      '--import',
      preload,
      CLI,
      'run',
      '--since',
      '2026-01-01',
      '--until',
      'a b',
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, message);
    assert.equal(result.stdout, '');
  });

  it('behaves the same under the node on PATH outside the project, whatever its version', async () => {
    const systemNode = findNodeOutsideProject();
    assert.ok(systemNode, 'no node on PATH outside node_modules');
    const version = (await run(systemNode, ['-p', 'process.versions.node'])).stdout.trim();
    const result = await run(systemNode, [CLI, 'run', '--since', '2026-01-01', '--until', 'a b']);
    if (Number(version.split('.')[0]) < 22) {
      assert.equal(result.code, 1);
      assert.match(result.stderr, message);
    } else {
      // A recent Node reaches the real command line, which refuses the malformed --until.
      assert.equal(result.code, 2);
      assert.match(result.stderr, /--until expects an ISO 8601 time/);
    }
  });
});

describe('cli local.settings.json', () => {
  it('names the file, line and column of a broken local.settings.json, and exits 1', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'cli-broken-settings-'));
    after(() => rm(cwd, { recursive: true, force: true }));
    await writeFile(join(cwd, 'local.settings.json'), '{\n  "Values": {\n    "A": "x"\n    "B": "y"\n  }\n}\n');
    const result = await cli(['status'], { cwd });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /local\.settings\.json is not valid JSON at line 4, column 5: Expected ',' or '}' after property value\./,
    );
    assert.ok(result.stderr.includes(join(cwd, 'local.settings.json')), result.stderr);
    assert.doesNotMatch(result.stderr, /SyntaxError|position/);
  });
});

describe('cli run', () => {
  const activities = generateActivities({
    count: 420,
    startCreatedMs: Date.now() - 4 * 3600_000,
    seed: 12,
    spanMs: 3 * 3600_000,
  });
  const alerts = generateAlerts({ count: 12, startMs: Date.now() - 3 * 3600_000, seed: 5 });
  let stack: LocalStack;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    stack = await startLocalStack({ activities, mcas: { alerts } });
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
    assert.deepEqual(lastJsonLine(result.stdout), {
      ...lastJsonLine(result.stdout),
      stream: 'activities',
      fetched: 420,
      sent: 0,
      checkpoint: null,
    });
    assert.equal(stack.logAnalytics.requests.length, 0);
    assert.equal(existsSync(join(dir, 'checkpoints', 'activities.json')), false);
    assert.match(result.stderr, /no checkpoint yet: the initial lookback of 1440 minutes/);
    assert.match(result.stderr, /nothing saved \(dry run\)/);
    assert.doesNotMatch(result.stderr, /\b1 batches\b/);
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
    assert.equal(lastJsonLine(result.stdout)['checkpoint'], null);
    assert.equal(await readFile(path, 'utf8'), before);
    assert.match(result.stderr, /from the start of the requested range/);
    assert.doesNotMatch(result.stderr, /initial lookback/);
  });

  it('copies alerts with --stream alerts, into their own table and checkpoint', async () => {
    const result = await cli(['run', '--stream', 'alerts'], { env });
    assert.equal(result.code, 0, result.stderr);
    const summary = lastJsonLine(result.stdout);
    assert.equal(summary['stream'], 'alerts');
    assert.equal(summary['sent'], alerts.length);
    assert.ok(existsSync(join(dir, 'checkpoints', 'alerts.json')));
    const logTypes = new Set(stack.logAnalytics.requests.map((r) => r.headers['log-type']));
    assert.ok(logTypes.has('MCAS_Alert_Log'), [...logTypes].join());

    const status = await cli(['status', '--stream', 'alerts', '--json'], { env });
    assert.equal((JSON.parse(status.stdout) as Record<string, unknown>)['stream'], 'alerts');
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

describe('cli when a service cannot be reached', () => {
  let stack: LocalStack;
  let port: number;
  before(async () => {
    stack = await startLocalStack({ activities: [] });
    port = await closedPort();
  });
  after(() => stack.close());

  it('names the checkpoint storage, its setting and what to do, without retrying a refused Azurite', async () => {
    const env = {
      ...stack.settings,
      AzureWebJobsStorage:
        `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};` +
        `BlobEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT_NAME};`,
    };
    const result = await cli(['run'], { env });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `ServiceUnreachableError: Could not reach the checkpoint storage at http://127\\.0\\.0\\.1:${port}/devstoreaccount1 ` +
          '\\(AzureWebJobsStorage\\): the connection was refused.*\\(ECONNREFUSED\\)\\. Start Azurite \\(npm run azurite',
      ),
    );
    assert.match(result.stderr, /CHECKPOINT_STORE=file:\.checkpoints/);
    assert.doesNotMatch(result.stderr, /retrying/);
    assert.doesNotMatch(result.stderr, new RegExp(AZURITE_ACCOUNT_KEY.slice(0, 16)));
  });

  it('names MCAS and MCAS_PORTAL_URL when MCAS refuses the connection', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-unreachable-'));
    after(() => rm(dir, { recursive: true, force: true }));
    const env = {
      ...stack.settings,
      MCAS_PORTAL_URL: `http://127.0.0.1:${port}`,
      CHECKPOINT_STORE: `file:${dir}`,
    };
    const result = await cli(['run'], { env });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `Could not reach MCAS at http://127\\.0\\.0\\.1:${port} \\(MCAS_PORTAL_URL\\): the connection was refused`,
      ),
    );
    assert.match(result.stderr, /Check MCAS_PORTAL_URL/);
    assert.doesNotMatch(result.stderr, /retrying/);
  });
});
