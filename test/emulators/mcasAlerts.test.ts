// Tests of the loopback MCAS alerts API (POST /api/v1/alerts/) and the alert generator, with plain fetch as the client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateActivities } from '../../emulators/activityGenerator.js';
import { generateAlerts, type RawAlert } from '../../emulators/alertGenerator.js';
import {
  ALERTS_PATH,
  type McasEmulator,
  type McasEmulatorOptions,
  startMcasEmulator,
} from '../../emulators/mcasEmulator.js';
import { McasAlertSchema } from '../../src/mcas/alertSchema.js';

const TOKEN = 'fake-mcas-token';
const START_MS = 1_705_000_000_000;

interface AlertPage {
  data: RawAlert[];
  hasNext: boolean;
  total: number;
  max?: number;
  moreThanTotal?: boolean;
}

async function post(emulator: McasEmulator, body: unknown, init: { auth?: string | null; path?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const auth = init.auth === undefined ? `Token ${TOKEN}` : init.auth;
  if (auth !== null) headers.authorization = auth;
  const response = await fetch(`${emulator.url}${init.path ?? ALERTS_PATH}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as AlertPage };
}

async function start(options: Partial<McasEmulatorOptions> & { alerts: RawAlert[] }): Promise<McasEmulator> {
  return startMcasEmulator({ token: TOKEN, activities: [], ...options });
}

const ids = (list: RawAlert[]): string[] => list.map((alert) => alert['_id'] as string);
const time = (alert: RawAlert): number => alert['timestamp'] as number;
const severity = (alert: RawAlert): number => alert['severityValue'] as number;
const DATE_ASC = { sortField: 'date', sortDirection: 'asc' } as const;

describe('generateAlerts', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generateAlerts({ count: 40, startMs: START_MS, seed: 1 });
    assert.deepEqual(a, generateAlerts({ count: 40, startMs: START_MS, seed: 1 }));
    assert.notDeepEqual(ids(a), ids(generateAlerts({ count: 40, startMs: START_MS, seed: 2 })));
  });

  it('produces ascending timestamps with ties and unique 24-hex ids, each passing the alert schema', () => {
    const list = generateAlerts({ count: 2000, startMs: START_MS, seed: 7 });
    assert.equal(new Set(ids(list)).size, 2000);
    let ties = 0;
    list.forEach((alert, i) => {
      assert.match(alert['_id'] as string, /^[0-9a-f]{24}$/);
      assert.equal(McasAlertSchema.safeParse(alert).success, true);
      const previous = list[i - 1];
      if (previous) {
        assert.ok(time(alert) >= time(previous));
        if (time(alert) === time(previous)) ties += 1;
      }
    });
    assert.ok(ties > 100, `${ties} ties`);
  });

  it('covers the five detections, a customer policy with a non-ASCII title, and every documented severity', () => {
    const list = generateAlerts({ count: 500, startMs: START_MS, seed: 3 });
    const titles = new Set(list.map((alert) => alert['title'] as string));
    for (const title of [
      'Impossible travel activity',
      'Mass download by a single user',
      'Ransomware activity',
      'Activity from infrequent country',
      'Suspicious inbox forwarding',
    ]) {
      assert.ok(titles.has(title), title);
    }
    assert.ok([...titles].some((title) => /[\u0080-\uffff]/.test(title)));
    assert.deepEqual([...new Set(list.map(severity))].sort(), [0, 1, 2, 3]);
    assert.ok(list.some((alert) => alert['resolutionStatusValue'] === 0));
    assert.ok(list.some((alert) => (alert['resolutionStatusValue'] as number) >= 3));
  });

  it('names accounts, documentation-range IPs, services and the policy in the entities', () => {
    for (const alert of generateAlerts({ count: 300, startMs: START_MS, seed: 5 })) {
      const entities = alert['entities'] as Record<string, unknown>[];
      const types = new Set(entities.map((entity) => entity['type']));
      for (const type of ['account', 'ip', 'service', 'policyRule']) {
        assert.ok(types.has(type), `${type} in ${String(alert['title'])}`);
      }
      for (const ip of entities.filter((entity) => entity['type'] === 'ip')) {
        assert.match(ip['label'] as string, /^(203\.0\.113|198\.51\.100|192\.0\.2)\.\d+$|^2001:db8::/);
      }
      const account = entities.find((entity) => entity['type'] === 'account');
      assert.ok(account);
      assert.match(account['pa'] as string, /@contoso\.example$/);
    }
  });
});

describe('McasEmulator alerts listing', () => {
  const alerts = generateAlerts({ count: 1500, startMs: START_MS, seed: 11, tiesEvery: 3 });
  let emulator: McasEmulator;
  before(async () => {
    emulator = await start({ alerts, activities: generateActivities({ count: 5, startCreatedMs: START_MS, seed: 1 }) });
  });
  after(() => emulator.close());

  it('pages through every alert once by date with a keyset cursor and skip inside a tied millisecond', async () => {
    const newest = alerts.at(-1);
    assert.ok(newest);
    const windowEnd = time(newest);
    const seen: string[] = [];
    let cursor = START_MS;
    let seenAtCursor = 0;
    for (let requestsLeft = 100; requestsLeft > 0; requestsLeft -= 1) {
      const filters = { date: { gte: cursor, lte: windowEnd } };
      const page = (await post(emulator, { ...DATE_ASC, filters, skip: seenAtCursor, limit: 100 })).json();
      for (const alert of page.data) {
        seen.push(alert['_id'] as string);
        if (time(alert) === cursor) seenAtCursor += 1;
        else {
          cursor = time(alert);
          seenAtCursor = 1;
        }
      }
      if (!page.hasNext) break;
    }
    assert.equal(seen.length, 1500);
    assert.deepEqual(new Set(seen), new Set(ids(alerts)));
  });

  it('sorts newest first by default, and ascending or descending by date or severity when asked', async () => {
    const byDefault = (await post(emulator, { limit: 100 })).json().data;
    const [first] = byDefault;
    const newest = alerts.at(-1);
    assert.ok(first && newest);
    assert.equal(time(first), time(newest));
    const oldestFirst = (await post(emulator, { ...DATE_ASC, limit: 100 })).json().data;
    assert.equal(oldestFirst[0]?.['_id'], alerts[0]?.['_id']);
    // By the code, not by meaning: 3 is Informational, yet it sorts above 2 (High). The real ranking is undocumented.
    const codes = async (sortDirection: string): Promise<number[]> =>
      (await post(emulator, { sortField: 'severity', sortDirection, skip: 50, limit: 100 })).json().data.map(severity);
    const descending = await codes('desc');
    assert.deepEqual(
      descending,
      [...descending].sort((x, y) => y - x),
    );
    assert.ok(new Set(descending).size > 1, 'the page spans two codes');
    const ascending = await codes('asc');
    assert.deepEqual(
      ascending,
      [...ascending].sort((x, y) => x - y),
    );
    assert.equal(ascending[0], 0);
  });

  it('keeps one stable tie order by severity, not insertion order, so skip returns each alert once', async () => {
    const body = { sortField: 'severity', sortDirection: 'asc', filters: { severity: { eq: [1] } }, limit: 100 };
    const first = ids((await post(emulator, body)).json().data);
    assert.deepEqual(ids((await post(emulator, body)).json().data), first);
    const all: string[] = [];
    for (let skip = 0; ; skip += 100) {
      const page = (await post(emulator, { ...body, skip })).json();
      all.push(...ids(page.data));
      if (!page.hasNext) break;
    }
    const inserted = ids(alerts.filter((alert) => severity(alert) === 1));
    assert.equal(all.length, inserted.length);
    assert.deepEqual([...all].sort(), [...inserted].sort());
    assert.notDeepEqual(all, inserted);
  });

  it('applies date, severity and resolutionStatus filters, alone and together, in either sort', async () => {
    const at = (offsetMs: number): number => START_MS + offsetMs;
    const between = (alert: RawAlert, from: number, to: number): boolean => time(alert) >= from && time(alert) <= to;
    const resolution = (alert: RawAlert): number => alert['resolutionStatusValue'] as number;
    const cases: [Record<string, unknown>, (alert: RawAlert) => boolean][] = [
      [{ date: { gte: at(3_600_000), lte: at(20_000_000) } }, (a) => between(a, at(3_600_000), at(20_000_000))],
      [{ date: { gt: at(3_600_000), lt: at(20_000_000) } }, (a) => time(a) > at(3_600_000) && time(a) < at(20_000_000)],
      [
        {
          date: {
            range: [
              { start: at(0), end: at(1_000_000) },
              { start: at(40_000_000), end: at(41_000_000) },
            ],
          },
        },
        (a) => between(a, at(0), at(1_000_000)) || between(a, at(40_000_000), at(41_000_000)),
      ],
      [
        { date: { range: { start: at(5_000_000), end: at(9_000_000) } } },
        (a) => between(a, at(5_000_000), at(9_000_000)),
      ],
      [{ severity: { eq: [2, 3] } }, (a) => severity(a) >= 2],
      [{ severity: { neq: [0] } }, (a) => severity(a) !== 0],
      [{ resolutionStatus: { eq: [0] } }, (a) => resolution(a) === 0],
      [{ resolutionStatus: { neq: [0, 1, 2] } }, (a) => resolution(a) >= 3],
      [
        { date: { gte: at(10_000_000) }, severity: { eq: [2] }, resolutionStatus: { eq: [0] } },
        (a) => time(a) >= at(10_000_000) && severity(a) === 2 && resolution(a) === 0,
      ],
    ];
    for (const sort of [DATE_ASC, { sortField: 'date', sortDirection: 'desc' }, { sortField: 'severity' }]) {
      for (const [filters, predicate] of cases) {
        const expected = alerts.filter(predicate);
        const label = `${JSON.stringify(sort)} ${JSON.stringify(filters)}`;
        assert.ok(expected.length > 0, label);
        const page = (await post(emulator, { ...sort, filters, limit: 100 })).json();
        assert.equal(page.total, expected.length, label);
        assert.equal(page.data.length, Math.min(100, expected.length), label);
        assert.ok(page.data.every(predicate), label);
        assert.equal(page.hasNext, expected.length > 100, label);
      }
    }
  });

  it('answers with the documented envelope, including max and moreThanTotal', async () => {
    const page = (await post(emulator, { ...DATE_ASC, limit: 7 })).json();
    assert.deepEqual(Object.keys(page).sort(), ['data', 'hasNext', 'max', 'moreThanTotal', 'total']);
    assert.equal(page.max, 7);
    assert.equal(page.total, 1500);
    const activities = await post(emulator, { limit: 5 }, { path: '/api/v1/activities/' });
    assert.deepEqual(Object.keys(activities.json()).sort(), ['data', 'hasNext', 'total']);
  });

  it('refuses what the alerts API does not take, with the documented error shape', async () => {
    const refused: [unknown, RegExp][] = [
      [{ sortField: 'created' }, /created is not a valid sort field/],
      [{ filters: { created: { gte: START_MS } } }, /created is not valid/],
      [{ filters: { 'activity.eventType': { eq: ['EVENT_CATEGORY_LOGIN'] } } }, /activity.eventType is not valid/],
      [{ filters: { severity: { gte: 1 } } }, /gte is not a valid operator for severity/],
      [{ filters: { severity: { eq: ['HIGH'] } } }, /severity.eq value is not valid/],
      [{ isScan: true, limit: 500 }, /isScan is not supported/],
      [{ limit: 101 }, /limit must be at most 100/],
      [{ skip: 4901, limit: 100 }, /skip \+ limit/],
    ];
    for (const [body, message] of refused) {
      const response = await post(emulator, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match(response.text, message);
      assert.equal((JSON.parse(response.text) as { error: unknown }).error, true);
    }
  });

  it('answers 401, 404 and 405 as on the activities path', async () => {
    assert.equal((await post(emulator, {}, { auth: null })).status, 401);
    assert.equal((await post(emulator, {}, { auth: 'Token nope' })).status, 401);
    assert.equal((await post(emulator, {}, { path: '/api/v1/alerts' })).status, 404);
    const get = await fetch(`${emulator.url}${ALERTS_PATH}`, { headers: { authorization: `Token ${TOKEN}` } });
    assert.equal(get.status, 405);
    await get.text();
  });

  it('records alert requests with their path, body and status', async () => {
    const before = emulator.requests.length;
    await post(emulator, { limit: 2 });
    const recorded = emulator.requests[before];
    assert.ok(recorded);
    assert.equal(recorded.path, ALERTS_PATH);
    assert.deepEqual(recorded.body, { limit: 2 });
    assert.equal(recorded.status, 200);
  });
});

describe('McasEmulator alerts, shared machinery', () => {
  it('filters on gte_ndays and lte_ndays against the emulator clock', async (t) => {
    const nowMs = START_MS + 10 * 86_400_000;
    const alerts = generateAlerts({ count: 200, startMs: START_MS, seed: 2, spanMs: 9 * 86_400_000 });
    const emulator = await start({ alerts, clock: { nowMs: () => nowMs } });
    t.after(() => emulator.close());
    const boundMs = nowMs - 5 * 86_400_000;
    const recent = (await post(emulator, { filters: { date: { gte_ndays: 5 } }, limit: 100 })).json();
    assert.equal(recent.total, alerts.filter((alert) => time(alert) >= boundMs).length);
    const older = (await post(emulator, { filters: { date: { lte_ndays: 5 } }, limit: 100 })).json();
    assert.equal(older.total, alerts.filter((alert) => time(alert) <= boundMs).length);
    assert.ok(recent.total > 0 && older.total > 0);
  });

  it('counts both APIs against one tenant rate limit and one fault index', async (t) => {
    let nowMs = START_MS;
    const faulted: number[] = [];
    const emulator = await start({
      alerts: generateAlerts({ count: 3, startMs: START_MS, seed: 1 }),
      rateLimit: { requests: 2, perMs: 60_000 },
      clock: { nowMs: () => nowMs },
      faults: (index) => {
        if (index !== 1) return undefined;
        faulted.push(index);
        return { status: 503, body: { detail: 'busy' } };
      },
    });
    t.after(() => emulator.close());
    assert.equal((await post(emulator, {}, { path: '/api/v1/activities/' })).status, 200);
    assert.equal((await post(emulator, {})).status, 503);
    assert.equal((await post(emulator, {})).status, 200);
    const throttled = await post(emulator, {});
    assert.equal(throttled.status, 429);
    assert.match(throttled.text, /throttled/);
    assert.equal(throttled.headers.get('retry-after'), '60');
    nowMs += 60_000;
    assert.equal((await post(emulator, {})).json().data.length, 3);
    assert.deepEqual(faulted, [1]);
    assert.deepEqual(
      emulator.requests.map((request) => request.status),
      [200, 503, 200, 429, 200],
    );
  });

  it('serves alerts added later, and an empty list when started without alerts', async (t) => {
    const emulator = await startMcasEmulator({ token: TOKEN, activities: [] });
    t.after(() => emulator.close());
    assert.deepEqual((await post(emulator, {})).json().data, []);
    emulator.addAlerts(generateAlerts({ count: 4, startMs: START_MS, seed: 8 }));
    assert.equal((await post(emulator, { ...DATE_ASC })).json().total, 4);
  });
});
