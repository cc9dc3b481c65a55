#!/usr/bin/env node
// The command line's entry point (the package's `bin`). It checks the Node version before anything else is loaded:
// undici 8 and the Azure SDK need Node 22 (undici calls zlib.createZstdDecompress as it loads), and on Node 20 they
// would crash before a single setting is read. So this file imports only Node's own modules, and loads the commands
// (src/cli/main.ts) with a dynamic import once the version is known to be good.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The oldest Node the connector runs on, as in package.json `engines`. */
const MIN_NODE = { major: 22, minor: 19 };

/**
 * One line saying which Node is needed and the command to use instead, or undefined when `version` ("20.20.2") is
 * recent enough. `args` are the command line's arguments, repeated in the suggested command.
 */
export function nodeVersionProblem(version: string, args: readonly string[]): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor)) return undefined;
  const command = ['npx', 'mcas-activity-connector', ...args.map(quoteArg)].join(' ');
  return (
    `mcas-activity-connector needs Node.js ${MIN_NODE.major}.${MIN_NODE.minor} or later, and this is Node.js ` +
    `${version}. Run it through npm, which uses the project's Node ${MIN_NODE.major} (after npm ci): ${command}`
  );
}

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

// Run only when executed (also through the npm bin link), not when a test imports this module.
const isEntryPoint =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isEntryPoint) {
  const args = process.argv.slice(2);
  const problem = nodeVersionProblem(process.versions.node, args);
  if (problem !== undefined) {
    process.stderr.write(`${problem}\n`);
    process.exitCode = 1;
  } else {
    const { runCli } = await import('./cli/main.js');
    process.exitCode = await runCli(args, process.env);
  }
}
