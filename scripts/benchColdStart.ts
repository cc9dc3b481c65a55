// Bench section: cold start. Import time of the built function module beside that of `@azure/functions` alone, each
// in a fresh node process (alternating, median of several), measured inside the process around the dynamic import.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { type BenchRow, fixed, isQuick, median } from './benchSupport.js';

const run = promisify(execFile);
const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FUNCTION_MODULE = new URL('../src/functions/mcasActivityTimer.js', import.meta.url).href;

/** Milliseconds to import `specifier` in a fresh process started in the project root (so bare names resolve). */
async function importMs(specifier: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: PROJECT_ROOT });
  return Number(stdout.trim());
}

export async function benchColdStart(log: (line: string) => void): Promise<BenchRow[]> {
  const rounds = isQuick() ? 3 : 9;
  log(`  ${rounds} fresh processes each ...`);
  const library: number[] = [];
  const fn: number[] = [];
  for (let i = 0; i < rounds; i++) {
    library.push(await importMs('@azure/functions'));
    fn.push(await importMs(FUNCTION_MODULE));
  }
  const ratio = median(fn) / median(library);
  return [
    {
      section: `Cold start (median of ${rounds} fresh processes each)`,
      figure: 'import dist/src/functions/mcasActivityTimer.js / import @azure/functions',
      measured: `${fixed(median(fn), 1)} ms / ${fixed(median(library), 1)} ms = ${fixed(ratio)}x`,
      target: '<= 3x',
      pass: ratio <= 3,
    },
  ];
}
