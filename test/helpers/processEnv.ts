// Test helpers for code that reads process.env and for scripts that must run in a fresh Node process.
import { spawn } from 'node:child_process';

import type { Timer } from '@azure/functions';

/** Runs `fn` with `vars` set in process.env, restoring the previous values afterwards. */
export async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  }
}

/** A timer trigger argument as the host passes it. */
export function timer(isPastDue = false): Timer {
  return { isPastDue, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
}

/**
 * Runs an ES module `script` with `node -e` in a child process with exactly `env` (credentials such as
 * DefaultAzureCredential remember what they found per process, so each case needs its own), passing `input` as JSON
 * in argv[1]. Resolves with the exit code and the output.
 */
export async function runNodeScript(
  script: string,
  input: unknown,
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(input)], {
    env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? 15_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  return { exitCode, stdout, stderr };
}
