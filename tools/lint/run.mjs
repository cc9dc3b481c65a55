// `npm run lint`: installs this folder's linting packages when they are missing or older than its lock file, then
// runs ESLint (typescript-eslint's strict type-checked rules) and Prettier's check over the project. Exits non-zero
// on any finding. Extra arguments go to ESLint (for example `npm run lint -- --fix`).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const installed = join(here, 'node_modules', '.package-lock.json');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(join(here, 'package-lock.json')).mtimeMs) {
  const status = run(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], here);
  if (status !== 0) process.exit(status);
}
const eslint = run(
  process.execPath,
  [
    join(here, 'node_modules', 'eslint', 'bin', 'eslint.js'),
    '--config',
    join(here, 'eslint.config.mjs'),
    ...process.argv.slice(2),
    '.',
  ],
  root,
);
const prettier = run(
  process.execPath,
  [join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--check', '--log-level=warn', '.'],
  root,
);
process.exit(eslint !== 0 ? eslint : prettier);
