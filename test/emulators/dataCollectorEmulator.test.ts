// Tests of the loopback Data Collector API: the signature check, Azure's rejections, column tracking and faults.
// The signature is computed here with node:crypto, independently of the project's sink code.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  type DataCollectorEmulator,
  type DataCollectorEmulatorOptions,
  startDataCollectorEmulator,
  toDataCollectorColumns,
} from '../../emulators/dataCollectorEmulator.js';

const WORKSPACE_ID = '00000000-1111-2222-3333-444444444444';
const KEY = Buffer.from('fake-workspace-key-for-tests-only').toString('base64');
const NOW_MS = Date.UTC(2024, 6, 1, 12, 0, 0);
const clock = { nowMs: () => NOW_MS };

interface PostInit {
  body: string | Buffer;
  date?: string;
  contentType?: string;
  logType?: string;
  /** The Content-Length used in the string to sign; defaults to the UTF-8 byte length. */
  signedLength?: number;
  key?: string;
  workspaceId?: string;
  path?: string;
  timeGeneratedField?: string;
}

function sign(key: string, length: number, date: string): string {
  const stringToSign = `POST\n${length}\napplication/json\nx-ms-date:${date}\n/api/logs`;
  return createHmac('sha256', Buffer.from(key, 'base64')).update(stringToSign, 'utf8').digest('base64');
}

async function post(emulator: DataCollectorEmulator, init: PostInit) {
  const bytes = Buffer.isBuffer(init.body) ? init.body : Buffer.from(init.body, 'utf8');
  const date = init.date ?? new Date(NOW_MS).toUTCString();
  const signature = sign(init.key ?? KEY, init.signedLength ?? bytes.length, date);
  const headers: Record<string, string> = {
    'content-type': init.contentType ?? 'application/json',
    'log-type': init.logType ?? 'MCAS_Activity_Log',
    'x-ms-date': date,
    authorization: `SharedKey ${init.workspaceId ?? WORKSPACE_ID}:${signature}`,
  };
  if (init.timeGeneratedField) headers['time-generated-field'] = init.timeGeneratedField;
  const url = `${emulator.url}${init.path ?? '/api/logs?api-version=2016-04-01'}`;
  const response = await fetch(url, { method: 'POST', headers, body: bytes });
  const text = await response.text();
  const json = () => JSON.parse(text) as { Error: string; Message: string };
  return { status: response.status, text, headers: response.headers, json };
}

async function start(
  t: { after: (fn: () => Promise<void>) => void },
  options: Partial<DataCollectorEmulatorOptions> = {},
) {
  const emulator = await startDataCollectorEmulator({
    workspaceId: WORKSPACE_ID,
    sharedKeyBase64: KEY,
    clock,
    ...options,
  });
  t.after(() => emulator.close());
  return emulator;
}

const NON_ASCII_RECORDS = [
  { id: 'a1', user: 'Jürgen Groß', TimeOfActivity: '2024-07-01T11:58:00.000Z' },
  { id: 'a2', user: '山田 太郎 🚀', TimeOfActivity: '2024-07-01T11:59:00.000Z' },
];

describe('DataCollectorEmulator signature', () => {
  it('accepts a correctly signed non-ASCII post with 200 and an empty body, and records the batch', async (t) => {
    const emulator = await start(t);
    const response = await post(emulator, {
      body: JSON.stringify(NON_ASCII_RECORDS),
      timeGeneratedField: 'TimeOfActivity',
    });
    assert.equal(response.status, 200);
    assert.equal(response.text, '');
    assert.equal(emulator.batches.length, 1);
    const [batch] = emulator.batches;
    assert.ok(batch);
    assert.equal(batch.logType, 'MCAS_Activity_Log');
    assert.equal(batch.timeGeneratedField, 'TimeOfActivity');
    assert.deepEqual(emulator.rows(), NON_ASCII_RECORDS);
    assert.equal(emulator.timeGeneratedFallbacks, 0);
    const [request] = emulator.requests;
    assert.ok(request);
    assert.equal(request.bodyBytes, Buffer.byteLength(JSON.stringify(NON_ASCII_RECORDS)));
    assert.deepEqual(request.query, { 'api-version': '2016-04-01' });
  });

  it('rejects a signature over the character count of a non-ASCII body with 403', async (t) => {
    const emulator = await start(t);
    const body = JSON.stringify(NON_ASCII_RECORDS);
    assert.notEqual(body.length, Buffer.byteLength(body));
    const response = await post(emulator, { body, signedLength: body.length });
    assert.equal(response.status, 403);
    assert.deepEqual(response.json(), {
      Error: 'InvalidAuthorization',
      Message: 'An invalid signature was specified in the Authorization header',
    });
    assert.equal(emulator.batches.length, 0);
  });

  it('rejects a Content-Type with a charset suffix with 403, like Azure', async (t) => {
    const emulator = await start(t);
    const response = await post(emulator, { body: '[{"a":1}]', contentType: 'application/json; charset=utf-8' });
    assert.equal(response.status, 403);
    assert.equal(response.json().Error, 'InvalidAuthorization');
  });

  it('rejects a stale, a future or a malformed x-ms-date with 403', async (t) => {
    const emulator = await start(t);
    const minutesFromNow = (minutes: number): string => new Date(NOW_MS + minutes * 60_000).toUTCString();
    const stale = await post(emulator, { body: '[{"a":1}]', date: minutesFromNow(-16) });
    assert.equal(stale.status, 403);
    assert.match(stale.json().Message, /clock skew/);
    assert.equal((await post(emulator, { body: '[{"a":1}]', date: minutesFromNow(16) })).status, 403);
    assert.equal((await post(emulator, { body: '[{"a":1}]', date: new Date(NOW_MS).toISOString() })).status, 403);
    assert.equal((await post(emulator, { body: '[{"a":1}]', date: minutesFromNow(-14) })).status, 200);
  });

  it('rejects a wrong key, a wrong workspace id and a non-SharedKey scheme with 403', async (t) => {
    const emulator = await start(t);
    const otherKey = Buffer.from('another-fake-key').toString('base64');
    assert.equal((await post(emulator, { body: '[{"a":1}]', key: otherKey })).status, 403);
    const otherWorkspace = 'ffffffff-1111-2222-3333-444444444444';
    assert.equal((await post(emulator, { body: '[{"a":1}]', workspaceId: otherWorkspace })).status, 403);
    const bearer = await fetch(`${emulator.url}/api/logs?api-version=2016-04-01`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'log-type': 'X',
        'x-ms-date': new Date(NOW_MS).toUTCString(),
        authorization: 'Bearer abc',
      },
      body: '[]',
    });
    assert.equal(bearer.status, 403);
    assert.match(await bearer.text(), /invalid scheme/);
    assert.equal(emulator.batches.length, 0);
  });
});

describe('DataCollectorEmulator request checks', () => {
  it('answers 404 for another path and 400 for a missing or unknown api-version', async (t) => {
    const emulator = await start(t);
    assert.equal((await post(emulator, { body: '[]', path: '/api/log?api-version=2016-04-01' })).status, 404);
    const missing = await post(emulator, { body: '[]', path: '/api/logs' });
    assert.equal(missing.status, 400);
    assert.equal(missing.json().Error, 'MissingApiVersion');
    const unknown = await post(emulator, { body: '[]', path: '/api/logs?api-version=2023-01-01' });
    assert.equal(unknown.json().Error, 'InvalidApiVersion');
  });

  it('answers 400 InvalidLogType for a Log-Type with other characters or over 100 characters', async (t) => {
    const emulator = await start(t);
    const dashed = await post(emulator, { body: '[{"a":1}]', logType: 'MCAS-Activity' });
    assert.equal(dashed.status, 400);
    assert.equal(dashed.json().Error, 'InvalidLogType');
    assert.equal((await post(emulator, { body: '[{"a":1}]', logType: 'A'.repeat(101) })).status, 400);
    assert.equal((await post(emulator, { body: '[{"a":1}]', logType: 'A'.repeat(100) })).status, 200);
  });

  it('answers 400 UnsupportedContentType for another content type', async (t) => {
    const emulator = await start(t);
    const response = await post(emulator, { body: '[{"a":1}]', contentType: 'text/plain' });
    assert.equal(response.status, 400);
    assert.equal(response.json().Error, 'UnsupportedContentType');
  });

  it('answers 400 InvalidDataFormat for a body that is not JSON objects, and accepts a single object', async (t) => {
    const emulator = await start(t);
    for (const body of ['"text"', '42', '[1, 2]', '[{"a":1}, null]', '[[{"a":1}]]', '{"a":']) {
      const response = await post(emulator, { body });
      assert.equal(response.status, 400, body);
      assert.equal(response.json().Error, 'InvalidDataFormat', body);
    }
    assert.equal((await post(emulator, { body: '{"a":1}' })).status, 200);
    assert.deepEqual(emulator.rows(), [{ a: 1 }]);
  });

  it('answers 400 for the reserved property names', async (t) => {
    const emulator = await start(t);
    const response = await post(emulator, { body: '[{"TimeGenerated":"2024-07-01T00:00:00Z"}]' });
    assert.equal(response.status, 400);
    assert.match(response.json().Message, /TimeGenerated/);
  });

  it('answers 413 for a body over the size limit, or 404 when configured like the documented table', async (t) => {
    const emulator = await start(t, { maxBodyBytes: 1000 });
    const body = JSON.stringify([{ padding: 'x'.repeat(1000) }]);
    assert.equal((await post(emulator, { body })).status, 413);
    assert.equal(emulator.requests[0]?.bodyBytes, Buffer.byteLength(body));
    const strict = await start(t, { maxBodyBytes: 1000, oversizeStatus: 404 });
    assert.equal((await post(strict, { body })).status, 404);
    assert.equal(emulator.batches.length + strict.batches.length, 0);
  });

  it('counts records whose time-generated-field Azure would ignore', async (t) => {
    const emulator = await start(t);
    const records = [{ t: '2024-07-01T11:00:00Z' }, { t: '2024-06-20T11:00:00Z' }, { t: 1719831600000 }, { other: 1 }];
    assert.equal((await post(emulator, { body: JSON.stringify(records), timeGeneratedField: 't' })).status, 200);
    assert.equal(emulator.timeGeneratedFallbacks, 3);
  });
});

describe('DataCollectorEmulator columns', () => {
  it('names columns with type suffixes and flattens nested objects', () => {
    const columns = toDataCollectorColumns({
      name: 'x',
      count: 3,
      ok: true,
      when: '2024-07-01T12:00:00.123Z',
      id: '9909ED01-A74C-4874-8ABF-D2678E3AE23D',
      nested: { inner: 'y', deeper: { n: 1 } },
      list: [1, 2],
      nothing: null,
    });
    const expected = ['name_s', 'count_d', 'ok_b', 'when_t', 'id_g', 'nested_inner_s', 'nested_deeper_n_d', 'list_s'];
    assert.deepEqual(columns, expected);
  });

  it('rejects a post that would take the table over 500 columns, counting columns across batches', async (t) => {
    const emulator = await start(t);
    const wide = (from: number, count: number) =>
      JSON.stringify([Object.fromEntries(Array.from({ length: count }, (_, i) => [`f${from + i}`, 'v']))]);
    assert.equal((await post(emulator, { body: wide(0, 300) })).status, 200);
    assert.equal((await post(emulator, { body: wide(0, 300) })).status, 200);
    const over = await post(emulator, { body: wide(300, 201) });
    assert.equal(over.status, 400);
    assert.match(over.json().Message, /501 columns/);
    assert.equal((await post(emulator, { body: wide(300, 200) })).status, 200);
    assert.equal(emulator.columns().length, 500);
  });

  it('counts field values over 32 KB, which Azure truncates', async (t) => {
    const emulator = await start(t);
    // 17,000 × 'é' is 34,000 bytes (over); 32 × 1024 ASCII bytes is exactly the limit (not over).
    const records = [
      { big: 'é'.repeat(17_000), small: 'x', nested: { big: 'y'.repeat(40_000) } },
      { big: 'z'.repeat(32 * 1024) },
    ];
    const body = JSON.stringify(records);
    assert.equal((await post(emulator, { body })).status, 200);
    assert.equal(emulator.batches[0]?.truncatedValues, 2);
    assert.equal(emulator.truncatedValues, 2);
  });
});

describe('DataCollectorEmulator faults', () => {
  it('answers a scripted 503 with Retry-After, resets, truncates, and accepts nothing for them', async (t) => {
    const emulator = await start(t, {
      faults: (index) => {
        if (index === 0) {
          return {
            status: 503,
            body: { Error: 'ServiceUnavailable', Message: 'busy' },
            headers: { 'retry-after': '3' },
          };
        }
        if (index === 1) return { kind: 'reset' };
        if (index === 2) return { kind: 'truncate' };
        if (index === 3) return { kind: 'html' };
        return undefined;
      },
    });
    const busy = await post(emulator, { body: '[{"a":1}]' });
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get('retry-after'), '3');
    await assert.rejects(post(emulator, { body: '[{"a":1}]' }), TypeError);
    await assert.rejects(post(emulator, { body: '[{"a":1}]' }), TypeError);
    assert.equal((await post(emulator, { body: '[{"a":1}]' })).status, 502);
    assert.equal(emulator.batches.length, 0);
    assert.equal((await post(emulator, { body: '[{"a":2}]' })).status, 200);
    assert.deepEqual(emulator.rows(), [{ a: 2 }]);
    const faults = emulator.requests.map((request) => request.fault);
    assert.deepEqual(faults, ['status 503', 'reset', 'truncate', 'html', undefined]);
  });

  it('can accept a batch and then drop the answer, so the client sees an error for stored data', async (t) => {
    const emulator = await start(t, { faults: (index) => (index === 0 ? { kind: 'resetAfterAccept' } : undefined) });
    await assert.rejects(post(emulator, { body: '[{"a":1}]' }), TypeError);
    assert.deepEqual(emulator.rows(), [{ a: 1 }]);
    assert.equal(emulator.requests[0]?.status, 0);
  });

  it('delays, then checks and accepts normally', async (t) => {
    const seen: number[] = [];
    const emulator = await start(t, {
      faults: (index, info) => {
        seen.push(info.body.length);
        return index === 0 ? { kind: 'delayMs', ms: 20 } : undefined;
      },
    });
    const startedMs = Date.now();
    assert.equal((await post(emulator, { body: '[{"a":1}]' })).status, 200);
    assert.ok(Date.now() - startedMs >= 15);
    assert.deepEqual(seen, [9]);
  });
});
