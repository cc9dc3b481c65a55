// Builds the deployment package: the folder and the zip that a deployment uploads to the function app, holding the
// compiled functions, host.json, package.json and the production packages of node_modules, and nothing else.
// Run: `npm run package` (it builds first). Writes .deploy/app/ (azd deploys this folder, see azure.yaml) and
// .deploy/mcas-activity-connector.zip (for `az functionapp deployment source config-zip`).
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import ignore from 'ignore';

/** The folder the package is written to, from the repository root; .gitignore and .funcignore both leave it out. */
export const PACKAGE_ROOT = '.deploy';
export const PACKAGE_DIR = `${PACKAGE_ROOT}/app`;
export const PACKAGE_ZIP = `${PACKAGE_ROOT}/mcas-activity-connector.zip`;
/** The ignore file of the Functions tooling and of azd: what a deployment of the project folder leaves out. */
export const FUNCIGNORE = '.funcignore';

// A fixed time on every entry, so that the same files give the same zip, byte for byte.
const ENTRY_TIME = new Date('2000-01-01T00:00:00Z');

interface LockPackage {
  dev?: boolean;
  link?: boolean;
}

/**
 * The installed packages a production install keeps (`npm ci --omit=dev`): every entry of package-lock.json that
 * is not marked dev-only, as paths such as `node_modules/@azure/functions`. An optional package that this machine
 * did not install is left out, as npm leaves it out.
 */
export async function productionPackageDirs(root: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as {
    lockfileVersion?: number;
    packages?: Record<string, LockPackage>;
  };
  if (!lock.packages || (lock.lockfileVersion ?? 0) < 2)
    throw new Error('package-lock.json has no "packages" map (lockfile version 2 or later): run npm install');
  const dirs: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev === true) continue;
    if (entry.link === true) throw new Error(`${path} is a linked package, which a zip cannot carry`);
    if (await isDirectory(join(root, path))) dirs.push(path);
  }
  return dirs.sort();
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Files under `dir` (relative to root, posix separators), skipping directories for which `skip` says so. */
async function walk(root: string, dir: string, skip: (relativeDir: string) => boolean): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!skip(path)) files.push(...(await walk(root, path, skip)));
    } else if (entry.isFile()) {
      files.push(path);
    }
  }
  return files;
}

/**
 * The files of the package, relative to the repository root and sorted: what .funcignore lets through of the project
 * folder, with node_modules narrowed to the production packages. Throws when the build output is missing.
 */
export async function selectPackageFiles(root: string): Promise<string[]> {
  const rules = ignore().add(await readFile(join(root, FUNCIGNORE), 'utf8'));
  const own = await walk(
    root,
    '',
    (dir) => dir === '.git' || dir === 'node_modules' || dir === PACKAGE_ROOT || rules.ignores(`${dir}/`),
  );
  const kept = own.filter((path) => !rules.ignores(path));
  if (!kept.some((path) => path.startsWith('dist/src/functions/')))
    throw new Error('dist/src/functions/ is empty: run npm run build first');

  const dependencies: string[] = [];
  if (!rules.ignores('node_modules/')) {
    for (const dir of await productionPackageDirs(root)) {
      // A package's own node_modules holds packages of their own lockfile entries, each taken on its own.
      const files = await walk(root, dir, (sub) => sub.endsWith('/node_modules'));
      dependencies.push(...files.filter((path) => !rules.ignores(path)));
    }
  }
  return [...kept, ...dependencies].sort();
}

/** Deflate levels; 0 stores the files as they are. */
export type CompressionLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
/** zlib's default: a fifth smaller than level 1, for twice the time. */
export const DEFAULT_COMPRESSION_LEVEL: CompressionLevel = 6;

export interface PackageResult {
  files: number;
  /** Size of the files before compression, in bytes. */
  contentBytes: number;
  zipPath: string;
  zipBytes: number;
}

/**
 * Writes the zip of the selected files to `zipPath` (absolute), and with `stageDir` also copies them there, the
 * folder azd deploys. Both are replaced, never added to. `compressionLevel` changes only the size of the zip.
 */
export async function buildPackage(
  root: string,
  options: { zipPath: string; stageDir?: string; compressionLevel?: CompressionLevel },
): Promise<PackageResult> {
  const level = options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL;
  const files = await selectPackageFiles(root);
  // Synchronous reads and copies: for some 10,000 small files they take a fraction of the time that
  // promise-per-file reads take on a busy machine.
  const chunks: Uint8Array[] = [];
  // The zip reports errors through this callback; the first one fails the package once every file is added.
  const failures: Error[] = [];
  const zip = new Zip((error, chunk) => {
    if (error) failures.push(error);
    else chunks.push(chunk);
  });
  let contentBytes = 0;
  for (const path of files) {
    const data = readFileSync(join(root, path));
    contentBytes += data.length;
    const entry = level === 0 ? new ZipPassThrough(path) : new ZipDeflate(path, { level });
    entry.mtime = ENTRY_TIME;
    zip.add(entry);
    entry.push(data, true);
  }
  zip.end();
  const [failure] = failures;
  if (failure) throw failure;
  const body = Buffer.concat(chunks);
  mkdirSync(dirname(options.zipPath), { recursive: true });
  writeFileSync(options.zipPath, body);

  if (options.stageDir) {
    rmSync(options.stageDir, { recursive: true, force: true });
    for (const path of files) {
      const target = join(options.stageDir, path);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(root, path), target);
    }
    // azd applies the service's .funcignore, or without one leaves node_modules out: this one keeps everything.
    writeFileSync(
      join(options.stageDir, FUNCIGNORE),
      `# Selected by npm run package: ship all of it.\n${FUNCIGNORE}\n`,
    );
  }
  return { files: files.length, contentBytes, zipPath: options.zipPath, zipBytes: body.length };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function main(): Promise<number> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const started = performance.now();
  const result = await buildPackage(root, { zipPath: join(root, PACKAGE_ZIP), stageDir: join(root, PACKAGE_DIR) });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `${PACKAGE_ZIP}: ${result.files} files, ${megabytes(result.contentBytes)} unpacked, ` +
      `${megabytes(result.zipBytes)} zipped, in ${seconds} s. ${PACKAGE_DIR}/ holds the same files.`,
  );
  return 0;
}

const isEntryPoint = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isEntryPoint) process.exitCode = await main();
