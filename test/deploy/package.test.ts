// The deployment package: built for real from this repository (one zip, read back with another library's reader),
// and its file selection on a small made-up project, so that a secret or a dev tool left in a project folder shows up
// as a failed test rather than in the function app.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { unzipSync } from 'fflate';
import ignore from 'ignore';
import { parse as parseYaml } from 'yaml';

import {
  buildPackage,
  FUNCIGNORE,
  PACKAGE_DIR,
  type PackageResult,
  productionPackageDirs,
  selectPackageFiles,
} from '../../scripts/packageApp.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface PackageJson {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

/** Paths that must never be in a package, whatever else changes. */
const NEVER_SHIPPED: readonly RegExp[] = [
  /(^|\/)local\.settings\.json$/,
  /^\.checkpoints\//,
  /^(dist\/)?test\//,
  /^(dist\/)?emulators\//,
  /^(dist\/)?scripts\//,
  /^(dist\/)?demo\//,
  /^sentinel\//,
  /^infra\//,
  /^src\//,
  /(^|\/)fixtures\//,
  /\.(pem|pfx|p12|key|crt|cer)$/,
  /^\.deploy\//,
  /^\.git\//,
];

/** Entry names of a zip, read by fflate's reader. */
function zipEntryNames(zip: Uint8Array): string[] {
  const names: string[] = [];
  unzipSync(zip, {
    filter: (file) => {
      names.push(file.name);
      return false;
    },
  });
  return names.sort();
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .sort();
}

/** What `npm ls --omit=dev` says a production install holds: npm's own answer, to check ours against. */
async function npmProductionDirs(): Promise<string[]> {
  const npmCli = process.env.npm_execpath;
  const [command, args] = npmCli?.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', [] as string[]];
  // npm ls exits non-zero when it finds problems in the tree (an extraneous package, say) but still lists it.
  const stdout = await promisify(execFile)(command, [...args, 'ls', '--omit=dev', '--all', '--parseable'], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    (result) => result.stdout,
    (error: unknown) => {
      const listed = (error as { stdout?: unknown }).stdout;
      if (typeof listed === 'string' && listed.trim() !== '') return listed;
      throw error;
    },
  );
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => relative(REPO_ROOT, line).split('\\').join('/'))
    .filter((path) => path !== '')
    .sort();
}

describe('deployment package', () => {
  describe('built from this repository', () => {
    let workDir = '';
    let result: PackageResult;
    let names: string[] = [];
    let pkg: PackageJson;

    before(async () => {
      workDir = await mkdtemp(join(tmpdir(), 'mcas-package-'));
      // The zip only, its files stored rather than deflated: the same selection, entries and bytes as the deployed
      // zip, in a fraction of the time (deflating 70 MB takes seconds). Staging and deflating are checked on the small
      // project below.
      result = await buildPackage(REPO_ROOT, { zipPath: join(workDir, 'app.zip'), compressionLevel: 0 });
      names = zipEntryNames(await readFile(result.zipPath));
      pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
    });

    it('holds host.json, package.json and every compiled function', async () => {
      assert.ok(names.includes('host.json') && names.includes('package.json'));
      const functions = (await readdir(join(REPO_ROOT, 'dist/src/functions'))).filter((name) => name.endsWith('.js'));
      assert.ok(functions.length > 0, 'no compiled functions: is dist/ built?');
      for (const name of functions) assert.ok(names.includes(`dist/src/functions/${name}`), `${name} is missing`);
      // package.json's main names the functions; the host finds them through it.
      assert.ok(names.includes('dist/src/functions/mcasActivityTimer.js'));
      assert.equal(result.files, names.length);
    });

    it('holds each production dependency, and exactly the packages npm keeps without devDependencies', async () => {
      for (const name of Object.keys(pkg.dependencies))
        assert.ok(names.includes(`node_modules/${name}/package.json`), `${name} is missing`);
      const shipped = new Set(
        names
          .filter((name) => name.endsWith('/package.json') && name.startsWith('node_modules/'))
          .map((name) => name.slice(0, -'/package.json'.length)),
      );
      const npmSays = await npmProductionDirs();
      assert.deepEqual(await productionPackageDirs(REPO_ROOT), npmSays);
      assert.deepEqual(
        npmSays.filter((dir) => !shipped.has(dir)),
        [],
        'packages npm installs in production but the zip lacks',
      );
    });

    it('holds no devDependency, test, emulator, fixture, certificate, checkpoint or local settings', () => {
      for (const name of Object.keys(pkg.devDependencies))
        assert.ok(!names.some((entry) => entry.startsWith(`node_modules/${name}/`)), `devDependency ${name} shipped`);
      assert.deepEqual(
        names.filter((name) => NEVER_SHIPPED.some((pattern) => pattern.test(name))),
        [],
      );
      // A native addon built here would not load on the function app's Linux workers.
      assert.deepEqual(
        names.filter((name) => name.endsWith('.node')),
        [],
      );
      const own = names.filter((name) => !name.startsWith('node_modules/'));
      assert.deepEqual(
        own.filter((name) => !['host.json', 'package.json', 'package-lock.json'].includes(name)),
        own.filter((name) => name.startsWith('dist/src/')),
        'outside node_modules, only the compiled sources and the three project files',
      );
    });

    it('agrees with .funcignore, which azd and the Functions tools apply to the project folder', async () => {
      const rules = ignore().add(await readFile(join(REPO_ROOT, FUNCIGNORE), 'utf8'));
      assert.deepEqual(
        names.filter((name) => rules.ignores(name)),
        [],
      );
      for (const path of ['local.settings.json', 'test/run.test.ts', 'dist/test/run.test.js', '.checkpoints/x.json'])
        assert.ok(rules.ignores(path), `${FUNCIGNORE} lets ${path} through`);
    });

    it('is as large as infra/README.md says, give or take a quarter', async () => {
      const readme = await readFile(join(REPO_ROOT, 'infra/README.md'), 'utf8');
      const stated = /([\d.]+) MB unpacked/.exec(readme);
      assert.ok(stated, 'infra/README.md states no unpacked size of the package');
      const statedBytes = Number(stated[1]) * 1024 * 1024;
      const ratio = result.contentBytes / statedBytes;
      assert.ok(
        ratio > 0.75 && ratio < 1.25,
        `the package holds ${(result.contentBytes / 1024 / 1024).toFixed(1)} MB, the README says ${stated[1]} MB`,
      );
    });

    it('holds the bytes of the files it names', async () => {
      const host = unzipSync(await readFile(result.zipPath), { filter: (file) => file.name === 'host.json' });
      assert.deepEqual(Buffer.from(host['host.json'] ?? []), await readFile(join(REPO_ROOT, 'host.json')));
      await rm(workDir, { recursive: true, force: true });
    });
  });

  describe('file selection', () => {
    /** A made-up project: a few files of each kind, and a lockfile with production, dev and nested packages. */
    async function fakeProject(): Promise<string> {
      const root = await mkdtemp(join(tmpdir(), 'mcas-select-'));
      const write = (path: string, text = '{}'): void => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      write(FUNCIGNORE, await readFile(join(REPO_ROOT, FUNCIGNORE), 'utf8'));
      write(
        'package-lock.json',
        JSON.stringify({
          lockfileVersion: 3,
          packages: {
            '': { name: 'fake' },
            'node_modules/prod': {},
            'node_modules/prod/node_modules/nested': {},
            'node_modules/tool': { dev: true },
            'node_modules/prod/node_modules/devnested': { dev: true },
            'node_modules/@scope/opt': { optional: true },
            'node_modules/notinstalled': { optional: true },
          },
        }),
      );
      for (const path of [
        'host.json',
        'package.json',
        'dist/src/functions/timer.js',
        'dist/src/config.js',
        'dist/test/config.test.js',
        'dist/scripts/bench.js',
        'local.settings.json',
        '.checkpoints/checkpoint.json',
        'test/fixtures/tls/key.pem',
        'emulators/azurite.ts',
        'src/config.ts',
        'README.md',
        '.deploy/app/host.json',
        'node_modules/prod/index.js',
        'node_modules/prod/node_modules/nested/index.js',
        'node_modules/prod/node_modules/devnested/index.js',
        'node_modules/tool/index.js',
        'node_modules/@scope/opt/index.js',
        'node_modules/.bin/tool',
      ])
        write(path);
      return root;
    }

    it('keeps the functions, the project files and the production packages, and nothing else', async () => {
      const root = await fakeProject();
      try {
        assert.deepEqual(await selectPackageFiles(root), [
          'dist/src/config.js',
          'dist/src/functions/timer.js',
          'host.json',
          'node_modules/@scope/opt/index.js',
          'node_modules/prod/index.js',
          'node_modules/prod/node_modules/nested/index.js',
          'package-lock.json',
          'package.json',
        ]);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });

    it('stages for azd the files it zips, with an ignore file that keeps node_modules', async () => {
      const root = await fakeProject();
      try {
        const result = await buildPackage(root, {
          zipPath: join(root, 'out/app.zip'),
          stageDir: join(root, 'out/app'),
        });
        const names = zipEntryNames(await readFile(result.zipPath));
        assert.deepEqual(names, await selectPackageFiles(root));
        const staged = await filesUnder(join(root, 'out/app'));
        assert.deepEqual(
          staged.filter((name) => name !== FUNCIGNORE),
          names,
        );
        // azd zips the staged folder with its .funcignore, or without one leaves node_modules out.
        const rules = ignore().add(await readFile(join(root, 'out/app', FUNCIGNORE), 'utf8'));
        assert.deepEqual(
          staged.filter((name) => rules.ignores(name)),
          [FUNCIGNORE],
        );
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });

    it('refuses to package a project that is not built', async () => {
      const root = await fakeProject();
      try {
        await rm(join(root, 'dist'), { recursive: true });
        await assert.rejects(selectPackageFiles(root), /npm run build/);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  });
  it('is what azd deploys: azure.yaml takes the folder npm run package stages before azd packs it', async () => {
    interface Hook {
      run?: string;
      posix?: { run?: string };
      windows?: { run?: string };
    }
    const project = parseYaml(await readFile(join(REPO_ROOT, 'azure.yaml'), 'utf8')) as {
      services?: Record<string, { dist?: string; remoteBuild?: boolean; hooks?: { prepackage?: Hook } }>;
    };
    const [service] = Object.values(project.services ?? {});
    assert.equal(service?.dist, PACKAGE_DIR);
    assert.equal(service.remoteBuild, false, 'a build on the server would install the devDependencies there');
    const hook = service.hooks?.prepackage;
    for (const run of [hook?.posix?.run, hook?.windows?.run]) assert.equal(run, 'npm run package');
    const scripts = (
      JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    assert.match(scripts.package ?? '', /npm run build && node dist\/scripts\/packageApp\.js/);
    assert.match(await readFile(join(REPO_ROOT, '.gitignore'), 'utf8'), /^\.deploy\/$/m);
  });
});
