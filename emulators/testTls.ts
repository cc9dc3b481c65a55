// The committed test-only TLS certificate for localhost/127.0.0.1 (test/fixtures/tls), for loopback HTTPS emulators.
// It protects nothing; see test/fixtures/tls/README.md.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TestTls {
  /** PEM certificate; also the trust anchor a client needs (it is self-signed). */
  cert: string;
  /** PEM private key of the certificate. */
  key: string;
  /** Path of the certificate file, for NODE_EXTRA_CA_CERTS in a child process. */
  certPath: string;
}

const FIXTURE_DIR = join('test', 'fixtures', 'tls');

/** Reads the fixture certificate and key, finding the repository root from this file (src or dist/ alike). */
export function loadTestTls(): TestTls {
  const dir = join(findRepoRoot(dirname(fileURLToPath(import.meta.url))), FIXTURE_DIR);
  const certPath = join(dir, 'localhost-test-only.cert.pem');
  return {
    cert: readFileSync(certPath, 'utf8'),
    key: readFileSync(join(dir, 'localhost-test-only.key.pem'), 'utf8'),
    certPath,
  };
}

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, FIXTURE_DIR))) return dir;
    if (dirname(dir) === dir) throw new Error(`Cannot find ${FIXTURE_DIR} above ${start}.`);
  }
}
