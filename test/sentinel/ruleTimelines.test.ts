// Each analytic rule against timelines of activities, written as data with the outcome expected and why: positive and
// negative cases, rows that arrive late (after an outage or a catch-up), and a sweep of lateness up to the bound the
// rule's description states. The rules' decision logic is modelled in JavaScript (ruleSchedule.ts explains the run
// model) with the constants read from each rule's query; the structural checks at the end tie the model to the KQL.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { readAnalyticRules, REPO_ROOT } from './content.js';
import {
  type Alert,
  durationMinutes,
  type Minutes,
  queryConstants,
  type Row,
  type RuleModel,
  runSchedule,
  type Schedule,
  statedLatenessMinutes,
} from './ruleSchedule.js';

const H = 60;
const D = 24 * H;

interface RuleUnderTest {
  file: string;
  query: string;
  description: string;
  schedule: Schedule;
  constants: Map<string, number>;
}

function loadRule(fileName: string): RuleUnderTest {
  const rule = readAnalyticRules().find((candidate) => candidate.file.endsWith(`/${fileName}`));
  assert.ok(rule, fileName);
  const query = String(rule.content['query']);
  const constants = queryConstants(query);
  const frequency = durationMinutes(rule.content['queryFrequency']) ?? assert.fail('queryFrequency');
  const period = durationMinutes(rule.content['queryPeriod']) ?? assert.fail('queryPeriod');
  const settle = constants.get('settle') ?? assert.fail(`${fileName}: no settle constant`);
  return {
    file: rule.file,
    query,
    description: String(rule.content['description']),
    schedule: { frequency, period, settle },
    constants,
  };
}

function constant(rule: RuleUnderTest, name: string): number {
  return rule.constants.get(name) ?? assert.fail(`${rule.file}: no let ${name}`);
}

function isNew(row: Row, windowStart: Minutes): boolean {
  return row.ingested > windowStart;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return groups;
}

interface Timeline {
  name: string;
  why: string;
  rows: Row[];
  expectedAlerts: number;
  /** Checks on the alerts beyond their number. */
  check?: (alerts: Alert[]) => void;
}

function alertsOf(rule: RuleUnderTest, model: RuleModel, rows: readonly Row[]): Alert[] {
  const lastIngested = Math.max(...rows.map((row) => row.ingested));
  return runSchedule(rule.schedule, rows, model, lastIngested + rule.schedule.settle + 2 * rule.schedule.frequency);
}

/** Every row arrives `lateness` minutes after it happened. */
function withLateness(rows: readonly Row[], lateness: Minutes): Row[] {
  return rows.map((row) => ({ ...row, ingested: row.at + lateness }));
}

/**
 * The checks every rule gets: its timelines, then the positive timeline again with every row late by up to the bound
 * the description states (exactly one alert each time), and once well past the bound (the bound is real: no alert).
 */
function describeRule(
  fileName: string,
  model: (rule: RuleUnderTest) => RuleModel,
  timelines: (rule: RuleUnderTest) => Timeline[],
): void {
  describe(fileName, () => {
    const rule = loadRule(fileName);
    const ruleModel = model(rule);
    const cases = timelines(rule);
    for (const timeline of cases) {
      it(`${timeline.name}: ${timeline.expectedAlerts} alert(s), because ${timeline.why}`, () => {
        const alerts = alertsOf(rule, ruleModel, timeline.rows);
        assert.equal(alerts.length, timeline.expectedAlerts, JSON.stringify(alerts));
        timeline.check?.(alerts);
      });
    }

    const positive = cases.find((timeline) => timeline.expectedAlerts === 1) ?? assert.fail('no positive timeline');
    const bound = statedLatenessMinutes(rule.description) ?? assert.fail(`${rule.file}: no lateness bound stated`);
    it(`alerts exactly once for "${positive.name}" whatever the lateness up to the stated ${bound / H} hours`, () => {
      for (const lateness of [0, 1, 59, 61, 6 * H, D, bound - H, bound]) {
        const alerts = alertsOf(rule, ruleModel, withLateness(positive.rows, lateness));
        assert.equal(alerts.length, 1, `lateness ${lateness} min: ${JSON.stringify(alerts)}`);
      }
    });

    it('misses rows that arrive later than its query period reaches, so the stated bound is a real one', () => {
      const tooLate = rule.schedule.period + rule.schedule.frequency;
      assert.equal(alertsOf(rule, ruleModel, withLateness(positive.rows, tooLate)).length, 0);
    });
  });
}

// ---- MCAS - Activity from an anonymous proxy or Tor address ---------------------------------------------------

describeRule(
  'ActivityFromAnonymousProxy.yaml',
  (rule) =>
    (rows, { windowStart }) => {
      const risky = constant(rule, 'riskyIpCategory');
      const hits = rows.filter(
        (row) => isNew(row, windowStart) && (row['proxy'] === true || row['category'] === risky),
      );
      return [...groupBy(hits, (row) => `${String(row['user'])}|${String(row['ip'])}`).values()].map((group) => ({
        user: group[0]?.['user'],
        activities: group.length,
      }));
    },
  () => [
    {
      name: 'a logon through an anonymous proxy',
      why: 'MCAS flags the address as an anonymous proxy',
      rows: [{ at: 10, ingested: 12, user: 'ana@contoso.com', ip: '198.51.100.7', proxy: true, category: 3 }],
      expectedAlerts: 1,
    },
    {
      name: 'the same activity delivered by a run that caught up after a 30-hour outage',
      why: 'the rule picks rows by ingestion time, and 30 hours is within the query period',
      rows: [{ at: 10, ingested: 10 + 30 * H, user: 'ana@contoso.com', ip: '198.51.100.7', proxy: true, category: 3 }],
      expectedAlerts: 1,
    },
    {
      name: 'activity from a corporate address',
      why: 'neither the proxy flag nor the Risky category (3) is set',
      rows: [{ at: 10, ingested: 12, user: 'ana@contoso.com', ip: '203.0.113.20', proxy: false, category: 1 }],
      expectedAlerts: 0,
    },
  ],
);

// ---- MCAS - Mass download of files by one user ------------------------------------------------------------------

function downloads(user: string, files: number, start: Minutes, spacing: Minutes, ingestDelay: Minutes): Row[] {
  return Array.from({ length: files }, (_, index) => ({
    kind: 'download',
    user,
    file: `report-${index}.xlsx`,
    at: start + index * spacing,
    ingested: start + index * spacing + ingestDelay,
  }));
}

describeRule(
  'MassDownloadByUser.yaml',
  (rule) =>
    (rows, { windowStart }) => {
      const threshold = constant(rule, 'distinctFilesThreshold');
      const burst = constant(rule, 'burstWindow');
      const all = rows.filter((row) => row['kind'] === 'download');
      const alerts: Record<string, unknown>[] = [];
      for (const [user, userRows] of groupBy(all, (row) => String(row['user']))) {
        let best = 0;
        for (const end of userRows.filter((row) => isNew(row, windowStart))) {
          const inBurst = userRows.filter((row) => row.at >= end.at - burst && row.at <= end.at);
          best = Math.max(best, new Set(inBurst.map((row) => row['file'])).size);
        }
        if (best >= threshold) alerts.push({ user, distinctFiles: best });
      }
      return alerts;
    },
  (rule) => {
    const threshold = constant(rule, 'distinctFilesThreshold');
    return [
      {
        name: `${threshold} files in 40 minutes, the burst straddling two runs`,
        why: 'every new download closes a one-hour window that also holds the rows an earlier run saw',
        // Starts 30 minutes before a run's window ends: half the burst is new to one run, half to the next.
        rows: downloads('bo@contoso.com', threshold, 60 - 10 - 30, 40 / threshold, 1),
        expectedAlerts: 1,
        check: (alerts) => assert.equal(alerts[0]?.['distinctFiles'], threshold),
      },
      {
        name: `${threshold - 1} distinct files, some downloaded twice`,
        why: 'repeats of the same file do not count towards the threshold',
        rows: [
          ...downloads('bo@contoso.com', threshold - 1, 5, 0.5, 1),
          ...downloads('bo@contoso.com', 10, 40, 0.5, 1),
        ],
        expectedAlerts: 0,
      },
      {
        name: `${threshold} files spread evenly over three hours`,
        why: 'no one-hour window holds the threshold',
        rows: downloads('bo@contoso.com', threshold, 5, (3 * H) / threshold, 1),
        expectedAlerts: 0,
      },
    ];
  },
);

// ---- MCAS - Admin activity from a country not seen for that admin -----------------------------------------------

function adminActivity(user: string, country: string, at: Minutes, ingested: Minutes = at + 5): Row {
  return { kind: 'admin', user, country, at, ingested };
}

describeRule(
  'AdminActivityFromNewCountry.yaml',
  (rule) =>
    (rows, { windowStart }) => {
      const baselinePeriod = constant(rule, 'baselinePeriod');
      const admin = rows.filter((row) => row['kind'] === 'admin');
      const baseline = admin.filter((row) => row.ingested <= windowStart && row.at >= windowStart - baselinePeriod);
      const knownUsers = new Set(baseline.map((row) => row['user']));
      const known = new Set(baseline.map((row) => `${String(row['user'])}|${String(row['country'])}`));
      const fresh = admin.filter(
        (row) =>
          isNew(row, windowStart) &&
          knownUsers.has(row['user']) &&
          !known.has(`${String(row['user'])}|${String(row['country'])}`),
      );
      return [...groupBy(fresh, (row) => `${String(row['user'])}|${String(row['country'])}`).keys()].map((key) => ({
        userCountry: key,
      }));
    },
  () => {
    const dailyFromNl = Array.from({ length: 10 }, (_, day) => adminActivity('cy@contoso.com', 'NL', day * D + 9 * H));
    return [
      {
        name: 'an admin active from NL every day, then from BR',
        why: 'BR is absent from the admin activity the workspace held before this run',
        rows: [...dailyFromNl, adminActivity('cy@contoso.com', 'BR', 11 * D)],
        expectedAlerts: 1,
        check: (alerts) => assert.equal(alerts[0]?.['userCountry'], 'cy@contoso.com|BR'),
      },
      {
        name: 'the BR activity arrives 40 hours late, after newer NL activity',
        why: 'it is new to the run after it arrived, and the baseline is what the workspace held before that run',
        rows: [
          ...dailyFromNl,
          adminActivity('cy@contoso.com', 'BR', 10 * D, 10 * D + 40 * H),
          adminActivity('cy@contoso.com', 'NL', 10 * D + 20 * H),
        ],
        expectedAlerts: 1,
      },
      {
        name: 'an admin active from NL only',
        why: 'no new country',
        rows: [...dailyFromNl, adminActivity('cy@contoso.com', 'NL', 11 * D)],
        expectedAlerts: 0,
      },
      {
        name: 'an account whose first admin activity is from BR',
        why: 'accounts with no baseline are left out: every country would be new for them',
        rows: [adminActivity('dee@contoso.com', 'BR', 11 * D)],
        expectedAlerts: 0,
      },
    ];
  },
);

// ---- MCAS - Several failed logons followed by a successful one ----------------------------------------------------

function logon(user: string, success: boolean, at: Minutes, ingested: Minutes = at + 3): Row {
  return { kind: success ? 'success' : 'failure', user, at, ingested };
}

describeRule(
  'FailedLogonsThenSuccess.yaml',
  (rule) =>
    (rows, { windowStart }) => {
      const threshold = constant(rule, 'failureThreshold');
      const failureWindow = constant(rule, 'failureWindow');
      const alerts: Record<string, unknown>[] = [];
      for (const [user, userRows] of groupBy(rows, (row) => String(row['user']))) {
        const failures = userRows.filter((row) => row['kind'] === 'failure');
        const complete = userRows
          .filter((row) => row['kind'] === 'success')
          .map((success) => {
            const before = failures.filter((f) => f.at < success.at && f.at >= success.at - failureWindow);
            const beforeThisRun = before.filter((f) => f.ingested <= windowStart).length;
            const isComplete = before.length >= threshold && (isNew(success, windowStart) || beforeThisRun < threshold);
            return { success, failedLogons: before.length, isComplete };
          })
          .filter((candidate) => candidate.isComplete)
          .sort((a, b) => a.success.at - b.success.at);
        const first = complete[0];
        if (first !== undefined) alerts.push({ user, failedLogons: first.failedLogons });
      }
      return alerts;
    },
  (rule) => {
    const threshold = constant(rule, 'failureThreshold');
    const failures = (user: string, count: number, start: Minutes, ingestDelay = 3): Row[] =>
      Array.from({ length: count }, (_, index) => logon(user, false, start + index, start + index + ingestDelay));
    return [
      {
        name: `${threshold} failed logons in ${threshold} minutes, then a success`,
        why: 'the failures all come in the hour before the success',
        rows: [...failures('ed@contoso.com', threshold, 20), logon('ed@contoso.com', true, 30)],
        expectedAlerts: 1,
        check: (alerts) => assert.equal(alerts[0]?.['failedLogons'], threshold),
      },
      {
        name: 'one failure, a success a minute later, then four failures',
        why: 'failures after the success do not count: only one came before it',
        rows: [
          logon('ed@contoso.com', false, 20),
          logon('ed@contoso.com', true, 21),
          ...failures('ed@contoso.com', 4, 22),
        ],
        expectedAlerts: 0,
      },
      {
        name: 'the success arrives at once, the failures 30 hours later',
        why: 'the pattern is complete in the run after the failures arrive, and alerts then, once',
        rows: [...failures('ed@contoso.com', threshold, 20, 30 * H), logon('ed@contoso.com', true, 30)],
        expectedAlerts: 1,
        check: (alerts) => assert.ok(Number(alerts[0]?.runAt) > 30 * H, String(alerts[0]?.runAt)),
      },
      {
        name: `${threshold} failures, then a success two hours later`,
        why: 'the failures are outside the hour before the success',
        rows: [...failures('ed@contoso.com', threshold, 20), logon('ed@contoso.com', true, 20 + 2 * H)],
        expectedAlerts: 0,
      },
      {
        name: `${threshold} failures, a success, and a sixth failure for that success arriving a day late`,
        why: 'the alert came when the pattern first became complete; a late extra failure does not repeat it',
        rows: [
          ...failures('ed@contoso.com', threshold, 20),
          logon('ed@contoso.com', false, 28, 28 + D),
          logon('ed@contoso.com', true, 30),
        ],
        expectedAlerts: 1,
      },
    ];
  },
);

// ---- MCAS - File shared outside the organisation, then opened by a guest -----------------------------------------

function share(at: Minutes, ingested: Minutes = at + 4): Row {
  return { kind: 'share', by: 'fay@contoso.com', file: 'plan.docx', at, ingested };
}

function guestAccess(at: Minutes, ingested: Minutes = at + 4): Row {
  return { kind: 'access', guest: 'guest_fabrikam.com#ext#@contoso.com', file: 'plan.docx', at, ingested };
}

describeRule(
  'ExternalShareThenGuestAccess.yaml',
  (rule) =>
    (rows, { windowStart }) => {
      const accessWindow = constant(rule, 'accessWindow');
      const shares = rows.filter((row) => row['kind'] === 'share');
      const accesses = rows.filter((row) => row['kind'] === 'access');
      const pairs = shares.flatMap((s) =>
        accesses
          .filter((a) => a['file'] === s['file'] && a.at >= s.at && a.at <= s.at + accessWindow)
          .map((a) => ({
            key: `${String(s['by'])}|${String(a['guest'])}|${String(s['file'])}`,
            complete: Math.max(s.ingested, a.ingested),
          })),
      );
      return [...groupBy(pairs, (pair) => pair.key)]
        .map(([key, group]) => ({ key, complete: Math.min(...group.map((pair) => pair.complete)) }))
        .filter((pair) => pair.complete > windowStart)
        .map((pair) => ({ pair: pair.key }));
    },
  () => [
    {
      name: 'a file shared with a guest, opened by the guest 23 hours 50 minutes later',
      why: 'the access is within the one-day window, and the query period reaches back past the share',
      rows: [share(10), guestAccess(10 + 23 * H + 50)],
      expectedAlerts: 1,
    },
    {
      name: 'the access arrives 40 hours late',
      why: 'the pair becomes complete when its later half arrives, and alerts then',
      rows: [share(10), guestAccess(10 + 2 * H, 10 + 42 * H)],
      expectedAlerts: 1,
    },
    {
      name: 'the guest opens the file three times',
      why: 'one alert per sharer, guest and file: the first complete pair',
      rows: [share(10), guestAccess(10 + H), guestAccess(10 + 5 * H), guestAccess(10 + 20 * H)],
      expectedAlerts: 1,
    },
    {
      name: 'the guest opens the file 25 hours after the share',
      why: 'outside the one-day access window',
      rows: [share(10), guestAccess(10 + 25 * H)],
      expectedAlerts: 0,
    },
    {
      name: 'the guest opened the file before it was shared with them',
      why: 'an access must follow the share',
      rows: [guestAccess(10), share(10 + H)],
      expectedAlerts: 0,
    },
  ],
);

// ---- What every rule's query must do for the model above to describe it ------------------------------------------

/** Per rule: the look-back its query needs beyond frequency, settle and lateness (the windows it correlates over). */
const LOOKBACK_CONSTANTS: Record<string, readonly string[]> = {
  'ActivityFromAnonymousProxy.yaml': [],
  'MassDownloadByUser.yaml': ['burstWindow'],
  'FailedLogonsThenSuccess.yaml': ['failureWindow'],
  'ExternalShareThenGuestAccess.yaml': ['accessWindow'],
  'AdminActivityFromNewCountry.yaml': [],
};

describe('every analytic rule', () => {
  const rules = readAnalyticRules();

  it('is covered by timelines here', () => {
    assert.deepEqual(rules.map((rule) => rule.file.split('/').pop()).sort(), Object.keys(LOOKBACK_CONSTANTS).sort());
  });

  for (const { file } of rules) {
    const fileName = file.split('/').pop() ?? file;
    it(`${fileName}: picks new rows by ingestion time in a window that tiles the runs, and states its lateness bound`, () => {
      const rule = loadRule(fileName);
      assert.equal(constant(rule, 'frequency'), rule.schedule.frequency, 'let frequency = queryFrequency');
      assert.match(rule.query, /let windowEnd = ago\(settle\);/);
      assert.match(rule.query, /let windowStart = windowEnd - frequency;/);
      assert.match(rule.query, /\b\w+ > windowStart\b/, 'something is new when it arrived after windowStart');
      // Rows the next run will see as new are never part of this run's decision.
      const reads = rule.query.match(/\bMCASActivity\b/g)?.length ?? 0;
      const bounded = rule.query.match(/IngestedTime <= windowEnd/g)?.length ?? 0;
      assert.ok(bounded >= reads, `${reads} reads of MCASActivity, ${bounded} bounded by windowEnd`);
      assert.ok(statedLatenessMinutes(rule.description) !== undefined, 'the description states the lateness bound');
    });

    it(`${fileName}: queryPeriod covers every look-back plus frequency, settle and the stated lateness`, () => {
      const rule = loadRule(fileName);
      const lateness = statedLatenessMinutes(rule.description) ?? assert.fail('no bound');
      const lookback = (LOOKBACK_CONSTANTS[fileName] ?? []).reduce((sum, name) => sum + constant(rule, name), 0);
      const { frequency, settle, period } = rule.schedule;
      assert.ok(
        period >= lookback + frequency + settle + lateness,
        `${period} < ${lookback}+${frequency}+${settle}+${lateness}`,
      );
      if (fileName === 'AdminActivityFromNewCountry.yaml') {
        // The baseline is anchored at the run, not at the late row: it must fit in the period with the run's window.
        assert.ok(period >= constant(rule, 'baselinePeriod') + frequency + settle);
      }
    });
  }

  it('reads the Azure operation from operationName.value, since operationName is an object in Azure records', () => {
    const rule = loadRule('AdminActivityFromNewCountry.yaml');
    const fixture = JSON.parse(
      readFileSync(`${REPO_ROOT}test/fixtures/activities/azure-vm-write-case-keys.json`, 'utf8'),
    ) as { rawDataJson: Record<string, unknown> };
    const line = /AzureOperation = coalesce\(([^\n]+)\),?\n/.exec(rule.query)?.[1] ?? assert.fail('no AzureOperation');
    const paths = [...line.matchAll(/tostring\(Raw\.([\w.]+)\)/g)].map((match) => match[1] ?? '');
    // KQL's dynamic access: each step is a property lookup, case-sensitive, null when absent.
    const resolve = (path: string): unknown =>
      path
        .split('.')
        .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], fixture.rawDataJson);
    assert.ok(paths.length > 0);
    assert.ok(
      paths.some((path) => typeof resolve(path) === 'string' && String(resolve(path)).startsWith('Microsoft.')),
      `${paths.join(', ')} resolve to ${paths.map((path) => JSON.stringify(resolve(path))).join(', ')}`,
    );
    // The old expression, tostring(Raw.operationName), met an object here: it could never start with Microsoft.
    assert.equal(typeof resolve('operationName'), 'object');
  });

  it('counts only failures before the success in the failed-logon rule', () => {
    assert.match(
      loadRule('FailedLogonsThenSuccess.yaml').query,
      /FailureTime < SuccessTime and FailureTime >= SuccessTime - failureWindow/,
    );
  });
});
