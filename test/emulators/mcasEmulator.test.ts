// Tests of the loopback MCAS activities API and the activity generator, with plain fetch as the client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateActivities, type RawActivity } from '../../emulators/activityGenerator.js';
import { type McasEmulator, type McasEmulatorOptions, startMcasEmulator } from '../../emulators/mcasEmulator.js';

const TOKEN = 'fake-mcas-token';
const START_MS = 1_720_000_000_000;

interface Page {
  data: RawActivity[];
  hasNext: boolean;
  total: number;
  nextQueryFilters?: Record<string, unknown>;
}

interface PostInit {
  /** `null` sends no Authorization header; default is the valid token. */
  auth?: string | null;
  path?: string;
  /** Sent as the body instead of `JSON.stringify(body)`. */
  raw?: string;
}

async function post(emulator: McasEmulator, body: unknown, init: PostInit = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const auth = init.auth === undefined ? `Token ${TOKEN}` : init.auth;
  if (auth !== null) headers.authorization = auth;
  const response = await fetch(`${emulator.url}${init.path ?? '/api/v1/activities/'}`, {
    method: 'POST',
    headers,
    body: init.raw ?? JSON.stringify(body),
  });
  const text = await response.text();
  const json = () => JSON.parse(text) as Page & Record<string, unknown>;
  return { status: response.status, headers: response.headers, text, json };
}

async function start(options: Partial<McasEmulatorOptions> & { activities: RawActivity[] }): Promise<McasEmulator> {
  return startMcasEmulator({ token: TOKEN, ...options });
}

const ids = (list: RawActivity[]): string[] => list.map((activity) => activity._id as string);
const created = (activity: RawActivity): number => activity.created as number;
const nested = (activity: RawActivity, parent: string, key: string): string =>
  (activity[parent] as Record<string, string>)[key] as string;
const ASC = { sortField: 'created', sortDirection: 'asc' } as const;

describe('generateActivities', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generateActivities({ count: 50, startCreatedMs: START_MS, seed: 1 });
    const b = generateActivities({ count: 50, startCreatedMs: START_MS, seed: 1 });
    const c = generateActivities({ count: 50, startCreatedMs: START_MS, seed: 2 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(ids(a), ids(c));
  });

  it('produces ascending created with ties, unique ids, and timestamps before created', () => {
    const list = generateActivities({ count: 2000, startCreatedMs: START_MS, seed: 7, maxTie: 150 });
    assert.equal(list.length, 2000);
    assert.equal(new Set(ids(list)).size, 2000);
    const perMs = new Map<number, number>();
    list.forEach((activity, i) => {
      const created = activity.created as number;
      if (i > 0) assert.ok(created >= (list[i - 1]?.created as number));
      assert.ok((activity.timestamp as number) < created);
      assert.ok(created - (activity.timestamp as number) <= 16 * 60_000);
      perMs.set(created, (perMs.get(created) ?? 0) + 1);
    });
    assert.equal(Math.max(...perMs.values()), 150);
  });

  it('includes the awkward real-world shapes: failed logons without user.userName, case-twin keys, non-ASCII', () => {
    const list = generateActivities({ count: 500, startCreatedMs: START_MS, seed: 3 });
    const failed = list.filter((activity) => activity.eventTypeName === 'EVENT_CATEGORY_FAILED_LOGIN');
    assert.ok(failed.length > 0);
    for (const activity of failed) {
      assert.equal((activity.user as Record<string, unknown>).userName, undefined);
      assert.equal(typeof (activity.failedUserData as Record<string, unknown>).userName, 'string');
    }
    assert.ok(
      list.some((activity) => {
        const raw = activity.rawDataJson as Record<string, unknown>;
        return 'Level' in raw && 'level' in raw;
      }),
    );
    assert.ok(
      list.some((activity) => {
        const raw = activity.rawDataJson as Record<string, unknown>;
        return 'EventName' in raw && 'eventName' in raw;
      }),
    );
    assert.ok(list.some((activity) => /[\u0080-\uffff]/.test(JSON.stringify(activity))));
    assert.ok(list.some((activity) => Array.isArray(activity.entityData)));
    assert.ok(list.some((activity) => !Array.isArray(activity.entityData)));
    const formatOf = (id: string): string => {
      if (/^[0-9a-f]{24}$/.test(id)) return 'hex24';
      if (/^[0-9a-f]{64}$/.test(id)) return 'hex64';
      return id.includes('_') ? 'underscore' : 'guid';
    };
    const idFormats = new Set(ids(list).map(formatOf));
    assert.deepEqual([...idFormats].sort(), ['guid', 'hex24', 'hex64', 'underscore']);
  });
});

describe('McasEmulator listing', () => {
  const activities = generateActivities({ count: 3000, startCreatedMs: START_MS, seed: 11, maxTie: 150 });
  let emulator: McasEmulator;
  before(async () => {
    emulator = await start({ activities });
  });
  after(() => emulator.close());

  it('pages through every record once with skip and limit, in ascending created order', async () => {
    const seen: RawActivity[] = [];
    for (let skip = 0; ; skip += 100) {
      const page = (await post(emulator, { ...ASC, filters: {}, skip, limit: 100 })).json();
      assert.equal(page.total, 3000);
      seen.push(...page.data);
      if (!page.hasNext) break;
    }
    assert.equal(seen.length, 3000);
    assert.deepEqual(new Set(ids(seen)), new Set(ids(activities)));
    for (let i = 1; i < seen.length; i += 1)
      assert.ok((seen[i]?.created as number) >= (seen[i - 1]?.created as number));
  });

  it('keeps one stable order inside a tied millisecond, so skip inside it returns every record once', async () => {
    const windowEnd = activities[activities.length - 1]?.created as number;
    const seen: string[] = [];
    let cursor = START_MS;
    let seenAtCursor = 0;
    for (let requestsLeft = 200; requestsLeft > 0; requestsLeft -= 1) {
      const body = { ...ASC, filters: { created: { gte: cursor, lte: windowEnd } }, skip: seenAtCursor, limit: 100 };
      const page = (await post(emulator, body)).json();
      for (const activity of page.data) {
        seen.push(activity._id as string);
        if (activity.created === cursor) seenAtCursor += 1;
        else {
          cursor = activity.created as number;
          seenAtCursor = 1;
        }
      }
      if (!page.hasNext) break;
    }
    assert.equal(seen.length, 3000);
    assert.equal(new Set(seen).size, 3000);
  });

  it('orders ties by something other than insertion order', async () => {
    const firstMs = activities.find((activity, i) => activities[i + 1]?.created === activity.created)
      ?.created as number;
    const inserted = ids(activities.filter((activity) => activity.created === firstMs));
    const body = { filters: { created: { eq: firstMs } }, sortField: 'created', sortDirection: 'asc', limit: 100 };
    const first = ids((await post(emulator, body)).json().data);
    const again = ids((await post(emulator, body)).json().data);
    const rest = ids((await post(emulator, { ...body, skip: 100 })).json().data);
    assert.equal(inserted.length, 150);
    assert.deepEqual([...first, ...rest].sort(), [...inserted].sort());
    assert.deepEqual(first, again);
    assert.notDeepEqual(first, inserted.slice(0, first.length));
  });

  it('sorts descending and by date when asked', async () => {
    const desc = (await post(emulator, { sortField: 'created', sortDirection: 'desc', limit: 100 })).json().data;
    assert.equal(desc[0]?.created, activities[activities.length - 1]?.created);
    const byDate = (await post(emulator, { sortField: 'date', sortDirection: 'asc', limit: 100 })).json().data;
    const minTimestamp = Math.min(...activities.map((activity) => activity.timestamp as number));
    assert.equal(byDate[0]?.timestamp, minTimestamp);
  });

  it('applies service, event type, user, ip and created filters together', async () => {
    const target = activities.find((activity) => activity.eventTypeName === 'EVENT_CATEGORY_LOGIN') as RawActivity;
    const userName = nested(target, 'user', 'userName');
    const ip = nested(target, 'device', 'clientIP');
    const at = (offsetMs: number): number => START_MS + offsetMs;
    const between = (a: RawActivity, from: number, to: number): boolean => created(a) >= from && created(a) <= to;
    const cases: [Record<string, unknown>, (activity: RawActivity) => boolean][] = [
      [{ service: { eq: [20892, 15600] } }, (a) => a.appId === 20892 || a.appId === 15600],
      [{ service: { neq: [20893] } }, (a) => a.appId !== 20893],
      [
        { 'activity.eventType': { eq: ['EVENT_CATEGORY_LOGIN', 'EVENT_CATEGORY_FAILED_LOGIN'] } },
        (a) => String(a.eventTypeName).includes('LOGIN'),
      ],
      [{ 'activity.eventType': { neq: ['EVENT_CATEGORY_LOGIN'] } }, (a) => a.eventTypeName !== 'EVENT_CATEGORY_LOGIN'],
      [
        { 'user.username': { eq: [userName] }, service: { eq: [target.appId] } },
        (a) => nested(a, 'user', 'userName') === userName && a.appId === target.appId,
      ],
      [{ 'ip.address': { eq: [ip] } }, (a) => nested(a, 'device', 'clientIP') === ip],
      [{ created: { gt: at(100_000), lt: at(900_000) } }, (a) => created(a) > at(100_000) && created(a) < at(900_000)],
      [
        {
          created: {
            range: [
              { start: at(0), end: at(50_000) },
              { start: at(500_000), end: at(520_000) },
            ],
          },
        },
        (a) => between(a, at(0), at(50_000)) || between(a, at(500_000), at(520_000)),
      ],
      [{ created: { range: { start: at(10_000), end: at(20_000) } } }, (a) => between(a, at(10_000), at(20_000))],
      [{ created: { eq: [created(target)] } }, (a) => created(a) === created(target)],
    ];
    for (const [filters, predicate] of cases) {
      const expected = activities.filter(predicate);
      assert.ok(expected.length > 0, JSON.stringify(filters));
      const page = (await post(emulator, { filters, sortField: 'created', sortDirection: 'asc', limit: 100 })).json();
      assert.equal(page.total, expected.length, JSON.stringify(filters));
      assert.ok(page.data.every(predicate), JSON.stringify(filters));
      assert.equal(page.hasNext, expected.length > 100);
    }
  });

  it('answers 400 with the documented error shape for an unknown field or operator', async () => {
    const unknownField = await post(emulator, { filters: { 'activity.colour': { eq: ['red'] } } });
    assert.equal(unknownField.status, 400);
    assert.deepEqual(unknownField.json(), {
      filters: [{ error: 'activity.colour is not valid', errorMessageCode: 'FILTER_FIELD_NOT_VALID' }],
      error: true,
    });
    const unknownOperator = await post(emulator, { filters: { created: { after: 5 } } });
    assert.equal(unknownOperator.status, 400);
    assert.match(unknownOperator.text, /after is not a valid operator for created/);
    const badValue = await post(emulator, { filters: { created: { gte: 'yesterday' } } });
    assert.equal(badValue.status, 400);
  });

  it('refuses a limit over 100 without scan mode, skip + limit over 5000, and malformed JSON', async () => {
    const tooBig = await post(emulator, { limit: 101 });
    assert.equal(tooBig.status, 400);
    assert.equal(tooBig.json().error, true);
    const tooDeep = await post(emulator, { skip: 4950, limit: 100 });
    assert.equal(tooDeep.status, 400);
    assert.match(tooDeep.text, /skip \+ limit/);
    const malformed = await post(emulator, undefined, { raw: '{"filters": {' });
    assert.equal(malformed.status, 400);
    assert.match(malformed.text, /JSON parse error/);
  });

  it('answers 404 for the path without its trailing slash and 405 for GET', async () => {
    const noSlash = await post(emulator, {}, { path: '/api/v1/activities' });
    assert.equal(noSlash.status, 404);
    assert.match(noSlash.text, /Not Found/);
    const get = await fetch(`${emulator.url}/api/v1/activities/`, { headers: { authorization: `Token ${TOKEN}` } });
    assert.equal(get.status, 405);
    await get.text();
  });

  it('records each request with its parsed body and status', async () => {
    const before = emulator.requests.length;
    await post(emulator, { limit: 3 });
    const recorded = emulator.requests[before];
    assert.ok(recorded);
    assert.equal(recorded.method, 'POST');
    assert.equal(recorded.path, '/api/v1/activities/');
    assert.deepEqual(recorded.body, { limit: 3 });
    assert.equal(recorded.status, 200);
    assert.equal(recorded.headers.authorization, `Token ${TOKEN}`);
  });
});

describe('McasEmulator auth', () => {
  let emulator: McasEmulator;
  before(async () => {
    const activities = generateActivities({ count: 5, startCreatedMs: START_MS, seed: 1 });
    emulator = await start({ activities, bearerToken: 'fake-entra-token' });
  });
  after(() => emulator.close());

  it('answers 401 JSON without credentials or with a wrong token', async () => {
    const missing = await post(emulator, {}, { auth: null });
    assert.equal(missing.status, 401);
    assert.match(missing.json().detail as string, /not provided/);
    const wrong = await post(emulator, {}, { auth: 'Token nope' });
    assert.equal(wrong.status, 401);
    const tokenAsBearer = await post(emulator, {}, { auth: `Bearer ${TOKEN}` });
    assert.equal(tokenAsBearer.status, 401);
  });

  it('accepts the configured bearer token', async () => {
    const response = await post(emulator, { limit: 5 }, { auth: 'Bearer fake-entra-token' });
    assert.equal(response.status, 200);
    assert.equal(response.json().data.length, 5);
  });
});

describe('McasEmulator rate limit', () => {
  it('answers 429 with Retry-After seconds and a throttled body, then serves again once the window passes', async (t) => {
    let nowMs = START_MS;
    const emulator = await start({
      activities: generateActivities({ count: 5, startCreatedMs: START_MS, seed: 1 }),
      rateLimit: { requests: 3, perMs: 60_000 },
      clock: { nowMs: () => nowMs },
    });
    t.after(() => emulator.close());
    for (let i = 0; i < 3; i += 1) assert.equal((await post(emulator, {})).status, 200);
    nowMs += 15_000;
    const throttled = await post(emulator, {});
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '45');
    assert.match(throttled.text, /throttled/);
    nowMs += 45_000;
    assert.equal((await post(emulator, {})).status, 200);
  });

  it('sends Retry-After as an HTTP date, or not at all, when configured so', async (t) => {
    const nowMs = Date.UTC(2024, 6, 1, 12, 0, 0);
    const activities = generateActivities({ count: 1, startCreatedMs: START_MS, seed: 1 });
    const clock = { nowMs: () => nowMs };
    const dated = await start({ activities, rateLimit: { requests: 1, perMs: 10_000, retryAfter: 'date' }, clock });
    const bare = await start({ activities, rateLimit: { requests: 1, perMs: 10_000, retryAfter: 'none' } });
    t.after(() => Promise.all([dated.close(), bare.close()]));
    await post(dated, {});
    assert.equal((await post(dated, {})).headers.get('retry-after'), 'Mon, 01 Jul 2024 12:00:10 GMT');
    await post(bare, {});
    const throttled = await post(bare, {});
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), null);
  });
});

describe('McasEmulator scan mode', () => {
  const activities = generateActivities({ count: 3000, startCreatedMs: START_MS, seed: 5, maxTie: 150, tiesEvery: 4 });

  async function scanAll(
    emulator: McasEmulator,
    filters: Record<string, unknown>,
    onPage?: (pageIndex: number) => void,
  ): Promise<string[]> {
    const seen: string[] = [];
    let next: Record<string, unknown> = filters;
    for (let n = 0; n < 100; n += 1) {
      const response = await post(emulator, { ...ASC, filters: next, limit: 500, isScan: true });
      assert.equal(response.status, 200, response.text);
      const page = response.json();
      seen.push(...ids(page.data));
      onPage?.(n);
      if (!page.hasNext) return seen;
      assert.ok(page.nextQueryFilters);
      next = page.nextQueryFilters;
    }
    throw new Error('scan did not end');
  }

  it('follows nextQueryFilters to the end with no repeats across created ties', async (t) => {
    const emulator = await start({ activities });
    t.after(() => emulator.close());
    const seen = await scanAll(emulator, {});
    assert.equal(seen.length, 3000);
    assert.equal(new Set(seen).size, 3000);
  });

  it('keeps the caller filters in nextQueryFilters and respects them', async (t) => {
    const emulator = await start({ activities });
    t.after(() => emulator.close());
    const windowEnd = START_MS + 1_000_000;
    const seen = await scanAll(emulator, { created: { gte: START_MS, lte: windowEnd }, service: { neq: [20893] } });
    const expected = activities.filter((a) => (a.created as number) <= windowEnd && a.appId !== 20893);
    assert.deepEqual(new Set(seen), new Set(ids(expected)));
    assert.equal(seen.length, expected.length);
    const lastBody = emulator.requests[emulator.requests.length - 1]?.body as { filters: Record<string, unknown> };
    assert.deepEqual(lastBody.filters.service, { neq: [20893] });
  });

  it('includes records saved late with a later created on the following pages', async (t) => {
    const emulator = await start({ activities: activities.slice(0, 1000) });
    t.after(() => emulator.close());
    const late = generateActivities({ count: 200, startCreatedMs: (activities[999]?.created as number) + 1, seed: 99 });
    const seen = await scanAll(emulator, {}, (n) => {
      if (n === 0) emulator.addActivities(late);
    });
    assert.equal(seen.length, 1200);
    assert.equal(new Set(seen).size, 1200);
  });

  it('refuses a scan limit under 500 or over 5000', async (t) => {
    const emulator = await start({ activities });
    t.after(() => emulator.close());
    assert.equal((await post(emulator, { isScan: true, limit: 100 })).status, 400);
    assert.equal((await post(emulator, { isScan: true, limit: 5001 })).status, 400);
    assert.equal((await post(emulator, { isScan: true, limit: 5000 })).json().data.length, 3000);
  });
});

describe('McasEmulator faults', () => {
  const activities = generateActivities({ count: 20, startCreatedMs: START_MS, seed: 2 });

  it('resets, truncates, serves an HTML gateway page, or answers a scripted status per request index', async (t) => {
    const emulator = await start({
      activities,
      faults: (index) => {
        if (index === 0) return { kind: 'reset' };
        if (index === 1) return { kind: 'truncate' };
        if (index === 2) return { kind: 'html' };
        if (index === 3) return { kind: 'html', status: 200 };
        if (index === 4) return { status: 503, body: { detail: 'busy' }, headers: { 'retry-after': '7' } };
        return undefined;
      },
    });
    t.after(() => emulator.close());
    await assert.rejects(post(emulator, {}), TypeError);
    const truncated = await fetch(`${emulator.url}/api/v1/activities/`, {
      method: 'POST',
      headers: { authorization: `Token ${TOKEN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(truncated.status, 200);
    await assert.rejects(truncated.text(), TypeError);
    const gateway = await post(emulator, {});
    assert.equal(gateway.status, 502);
    assert.match(gateway.headers.get('content-type') ?? '', /text\/html/);
    const htmlOk = await post(emulator, {});
    assert.equal(htmlOk.status, 200);
    assert.throws(() => htmlOk.json(), SyntaxError);
    const busy = await post(emulator, {});
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get('retry-after'), '7');
    assert.equal((await post(emulator, { limit: 20 })).json().data.length, 20);
    const faults = emulator.requests.map((request) => request.fault);
    assert.deepEqual(faults, ['reset', 'truncate', 'html', 'html', 'status 503', undefined]);
  });

  it('delays, then answers normally', async (t) => {
    const emulator = await start({
      activities,
      faults: (index) => (index === 0 ? { kind: 'delayMs', ms: 30 } : undefined),
    });
    t.after(() => emulator.close());
    const startedMs = Date.now();
    const response = await post(emulator, { limit: 20 });
    assert.ok(Date.now() - startedMs >= 25);
    assert.equal(response.status, 200);
    assert.equal(response.json().data.length, 20);
  });

  it('passes the parsed body to the fault callback', async (t) => {
    const bodies: unknown[] = [];
    const emulator = await start({
      activities,
      faults: (_index, body) => {
        bodies.push(body);
        return undefined;
      },
    });
    t.after(() => emulator.close());
    await post(emulator, { limit: 2, skip: 1 });
    assert.deepEqual(bodies, [{ limit: 2, skip: 1 }]);
  });
});
