import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ServiceUnreachableError } from '../src/errors.js';
import { Secret } from '../src/Secret.js';
import { checkpointTarget, mcasTarget } from '../src/serviceTargets.js';
import {
  connectionFailure,
  describeUnreachable,
  isLoopbackHost,
  isRefusedByLoopback,
  storageEndpoint,
} from '../src/unreachable.js';

/** A network error as Node's net and dns modules raise it. */
function netError(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${code} somewhere`), { code, ...extra });
}

const MCAS = mcasTarget({
  mcas: { portalUrl: 'https://contoso.us2.portal.cloudappsecurity.com' } as Parameters<typeof mcasTarget>[0]['mcas'],
});

describe('describeUnreachable', () => {
  it('names the service, its setting and what to check for an unknown host, keeping the code', () => {
    const error = describeUnreachable(
      netError('ENOTFOUND', { hostname: 'contoso.us2.portal.cloudappsecurity.com' }),
      MCAS,
    );
    assert.ok(error instanceof ServiceUnreachableError);
    assert.equal(error.code, 'ENOTFOUND');
    assert.equal(
      error.message.split(': the')[0],
      'Could not reach MCAS at https://contoso.us2.portal.cloudappsecurity.com (MCAS_PORTAL_URL)',
    );
    assert.match(error.message, /the host name was not found \(ENOTFOUND\)\. Check MCAS_PORTAL_URL: it is the API URL/);
  });

  it('finds the code in causes and aggregated errors, and leaves other failures alone', () => {
    const nested = new Error('fetch failed', {
      cause: new AggregateError([netError('ECONNREFUSED', { address: '::1' })]),
    });
    assert.deepEqual(connectionFailure(nested), { code: 'ECONNREFUSED', address: '::1' });
    assert.equal(describeUnreachable(new TypeError('x is not a function'), MCAS), undefined);
    assert.equal(
      describeUnreachable(netError('ECONNRESET'), MCAS),
      undefined,
      'a broken connection is not "unreachable"',
    );
    const once = describeUnreachable(netError('ETIMEDOUT'), MCAS);
    assert.equal(describeUnreachable(once, MCAS), undefined, 'worded once only');
  });

  it('tells a refusal on this machine from one elsewhere', () => {
    assert.equal(isRefusedByLoopback(netError('ECONNREFUSED', { address: '127.0.0.1' })), true);
    assert.equal(isRefusedByLoopback(netError('ECONNREFUSED', { address: '10.1.2.3' })), false);
    assert.equal(isRefusedByLoopback(netError('ECONNREFUSED'), 'http://localhost:10000/devstoreaccount1'), true);
    assert.equal(isRefusedByLoopback(netError('ENOTFOUND', { address: '127.0.0.1' })), false);
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'LOCALHOST']) assert.ok(isLoopbackHost(host), host);
    for (const host of ['10.0.0.1', 'localhost.example.com', '128.0.0.1']) assert.ok(!isLoopbackHost(host), host);
  });
});

describe('checkpoint storage targets', () => {
  it('point a refused Azurite at npm run azurite and the file store, and never show a key', () => {
    const key = 'c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWJlLXNob3du';
    const local = checkpointTarget({
      kind: 'blob',
      connectionString: new Secret('UseDevelopmentStorage=true'),
      container: 'c',
    });
    assert.equal(local.url, 'http://127.0.0.1:10000/devstoreaccount1');
    assert.equal(local.setting, 'AzureWebJobsStorage=UseDevelopmentStorage=true');
    assert.match(local.check, /npm run azurite.*CHECKPOINT_STORE=file:\.checkpoints/);

    const remote = checkpointTarget({
      kind: 'blob',
      connectionString: new Secret(
        `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${key};EndpointSuffix=core.windows.net`,
      ),
      container: 'c',
    });
    assert.equal(remote.url, 'https://acct.blob.core.windows.net');
    assert.doesNotMatch(JSON.stringify(remote), new RegExp(key.slice(0, 12)));
    assert.doesNotMatch(remote.check, /azurite/i);
  });

  it('reads the endpoint of a connection string without its secrets', () => {
    assert.equal(
      storageEndpoint('BlobEndpoint=http://127.0.0.1:4567/devstoreaccount1/;SharedAccessSignature=sv=2020&sig=abc'),
      'http://127.0.0.1:4567/devstoreaccount1',
    );
  });
});
