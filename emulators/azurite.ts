// Starts a private Azurite blob emulator (the one in node_modules) on a free loopback port, for tests and the demo,
// and on request its queue emulator too (multi-tenant mode's queue). In-memory only, no telemetry; close() stops them
// and waits for the processes to exit.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Azurite's well-known development account. The key is public (documented by Microsoft) and only opens Azurite. */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const DEFAULT_START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const EXTENT_MEMORY_LIMIT_MB = 256;
const MAX_OUTPUT_CHARS = 2_000;
// Printed by azurite-blob (dist/src/blob/main.js) once its HTTP server is listening.
const LISTENING_LINE = /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/;
// Printed by azurite (dist/src/azurite.js), which runs every service in one process, once each service listens.
const BLOB_LISTENING_LINE = /Blob service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/;
const QUEUE_LISTENING_LINE = /Queue service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/;

export interface Azurite {
  /** Account-key connection string with an explicit BlobEndpoint on this instance's port. */
  connectionString: string;
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  blobEndpoint: string;
  /** The queue service's endpoint, when started with `queue: true` (the connection string then names it too). */
  queueEndpoint?: string;
  /** Stops the emulator and waits for its process to exit. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartAzuriteOptions {
  /** How long to wait for Azurite to listen before giving up (default 15 s). */
  startTimeoutMs?: number;
  /** Start azurite-queue as well, on a port of its own. */
  queue?: boolean;
  /**
   * Azurite's flags instead of the defaults (in memory, no API version check), e.g. those of `npm run azurite`, to
   * test them. `--blobPort` becomes 0 and `--location` a temporary folder, so the instance is private all the same.
   */
  flags?: readonly string[];
}

/**
 * Spawns `azurite-blob` (and `azurite-queue` when asked) with the running Node (Azurite needs Node 22) on 127.0.0.1 and
 * a port the OS picks (`--blobPort 0`; the actual port is read back from Azurite's own "listens on" line), and
 * resolves once they listen.
 */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<Azurite> {
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const loopback = (service: string) => [`--${service}Host`, '127.0.0.1', `--${service}Port`, '0'];
  // With the queue, one `azurite` process serves blob, queue and table (it cannot leave table out): one Node process
  // starts faster than two on a busy machine.
  const started = options.queue
    ? await startService('azurite', [...loopback('blob'), ...loopback('queue'), ...loopback('table')], timeoutMs, [
        BLOB_LISTENING_LINE,
        QUEUE_LISTENING_LINE,
      ])
    : await startService('azurite-blob', loopback('blob'), timeoutMs, [LISTENING_LINE], options.flags);
  const [blobPort, queuePort] = started.ports;
  const blobEndpoint = `http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT_NAME}`;
  const queueEndpoint = queuePort !== undefined ? `http://127.0.0.1:${queuePort}/${AZURITE_ACCOUNT_NAME}` : undefined;
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};` +
    `AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};` +
    (queueEndpoint ? `QueueEndpoint=${queueEndpoint};` : '');
  return {
    connectionString,
    blobEndpoint,
    ...(queueEndpoint ? { queueEndpoint } : {}),
    close: started.close,
  };
}

/** Spawns an Azurite bin with `serviceArgs`, and resolves with the port each of `listening` reports. */
async function startService(
  bin: 'azurite-blob' | 'azurite',
  serviceArgs: string[],
  startTimeoutMs: number,
  listening: readonly RegExp[],
  flags?: readonly string[],
): Promise<{ ports: number[]; close: () => Promise<void> }> {
  const entry = await resolveAzuriteEntry(bin);
  // --location cannot be combined with --inMemoryPersistence, so a temp working directory catches anything it writes.
  const workDir = await mkdtemp(join(tmpdir(), 'azurite-'));
  const env = { ...process.env };
  delete env.AZURITE_DB; // would switch Azurite to a SQL metadata store
  const args = flags
    ? privateFlags(flags, workDir)
    : [
        ...serviceArgs,
        '--inMemoryPersistence',
        '--extentMemoryLimit',
        String(EXTENT_MEMORY_LIMIT_MB),
        '--skipApiVersionCheck',
        '--disableTelemetry',
        '--silent',
      ];
  const child = spawn(process.execPath, [entry, ...args], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  // 'error' without 'exit' happens when the process could not be spawned at all.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  // If the caller never gets to close() (a crash, a test run cut short), do not leave Azurite running.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    closing ??= (async () => {
      await stopProcess(child, exited);
      process.removeListener('exit', killOnExit);
      await rm(workDir, { recursive: true, force: true });
    })();
    await closing;
  };

  try {
    return { ports: await waitForPorts(child, exited, startTimeoutMs, listening), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `flags` with the port the OS picks and the data in `workDir`, so a test's instance collides with nothing. */
function privateFlags(flags: readonly string[], workDir: string): string[] {
  const out = [...flags];
  const set = (name: string, value: string): void => {
    const at = out.indexOf(name);
    if (at >= 0) out.splice(at, 2, name, value);
    else out.push(name, value);
  };
  set('--blobPort', '0');
  set('--location', workDir);
  return out;
}

/** A bin (`azurite-blob`, `azurite-queue`) of the installed package, found through its package.json. */
async function resolveAzuriteEntry(name: string): Promise<string> {
  const packageJsonPath = createRequire(import.meta.url).resolve('azurite/package.json');
  const manifest = JSON.parse(await readFile(packageJsonPath, 'utf8')) as { bin?: Record<string, string> };
  const bin = manifest.bin?.[name];
  if (bin === undefined) throw new Error(`${packageJsonPath} has no ${name} bin; is azurite 3.x installed?`);
  return join(dirname(packageJsonPath), bin);
}

function waitForPorts(
  child: ChildProcess,
  exited: Promise<void>,
  timeoutMs: number,
  listening: readonly RegExp[],
): Promise<number[]> {
  return new Promise<number[]>((resolve, reject) => {
    let output = '';
    const ports: (number | undefined)[] = listening.map(() => undefined);
    const timer = setTimeout(() => fail(`Azurite did not start listening within ${timeoutMs} ms.`), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-MAX_OUTPUT_CHARS);
      listening.forEach((line, i) => {
        const port = line.exec(output)?.[1];
        if (port !== undefined) ports[i] ??= Number(port);
      });
      if (ports.every((port) => port !== undefined)) {
        clearTimeout(timer);
        resolve(ports);
      }
    };
    function fail(message: string): void {
      clearTimeout(timer);
      reject(new Error(`${message} Its output:\n${output}`));
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) => fail(`Azurite could not be started: ${error.message}.`));
    void exited.then(() => fail(`Azurite exited with code ${child.exitCode} before listening.`));
  });
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
  });
  const stuck = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (stuck) {
    child.kill('SIGKILL');
    await exited;
  }
}
