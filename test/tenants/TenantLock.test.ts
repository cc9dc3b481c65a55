import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { RecordingLogger } from '../../src/logger.js';
import { acquireTenantLock } from '../../src/tenants/TenantLock.js';

describe('acquireTenantLock with file checkpoints', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tenant-lock-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const location = { kind: 'file' as const, path: join(dir, 'checkpoints') };
  const noCredential = () => Promise.reject(new Error('a file lock needs no credential'));

  it('lets one run hold a tenant at a time, and the next one in once it is released', async () => {
    const log = new RecordingLogger();
    const first = await acquireTenantLock(location, 'tenant-a', noCredential, { log });
    assert.ok(first);
    assert.equal(await acquireTenantLock(location, 'tenant-a', noCredential, { log }), undefined);
    const other = await acquireTenantLock(location, 'tenant-b', noCredential, { log });
    assert.ok(other, 'another tenant is not held up');
    await first.release();
    const again = await acquireTenantLock(location, 'tenant-a', noCredential, { log });
    assert.ok(again);
    await Promise.all([again.release(), other.release()]);
  });

  it('takes over the lock of a run that stopped renewing it long ago, saying so', async () => {
    const log = new RecordingLogger();
    const crashed = await acquireTenantLock(location, 'tenant-c', noCredential, { log });
    assert.ok(crashed);
    const longAgo = new Date(Date.now() - 3600_000);
    await utimes(join(location.path, 'tenant-c.lock'), longAgo, longAgo);
    const next = await acquireTenantLock(location, 'tenant-c', noCredential, { log });
    assert.ok(next);
    assert.match(log.text(), /Removing the stale tenant lock .*tenant-c\.lock/);
    await next.release();
  });
});
