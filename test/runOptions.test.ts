import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readConfig } from '../src/config.js';
import { tickTimes } from '../src/runDeadlines.js';
import { runOptions } from '../src/runOnce.js';
import { ACTIVITIES, ALERTS } from '../src/streams.js';

const BASE = {
  MCAS_PORTAL_URL: 'https://contoso.us2.portal.cloudappsecurity.com',
  LOG_ANALYTICS_WORKSPACE_ID: '00000000-0000-0000-0000-000000000000',
  MCAS_API_TOKEN: 'fake-token',
  LOG_ANALYTICS_WORKSPACE_KEY: 'a2V5',
  CHECKPOINT_STORE: 'file:unused',
};

describe('runOptions: the paging a config implies', () => {
  it('is auto by default for activities, counting requests at the configured pace', () => {
    const options = runOptions(readConfig({ ...BASE, MCAS_MAX_REQUESTS_PER_MINUTE: '20' }), {}, ACTIVITIES);
    assert.deepEqual(options.paging, { mode: 'auto', pageSize: 5000, windowMs: 3_600_000, requestsPerMinute: 20 });
  });

  it('reads alerts in keyset pages under auto, since scan mode is for activities only', () => {
    assert.deepEqual(runOptions(readConfig(BASE), {}, ALERTS).paging, { mode: 'keyset' });
  });

  it('keeps an explicit keyset or scan, and passes a timer run schedule on', () => {
    assert.deepEqual(runOptions(readConfig({ ...BASE, MCAS_PAGING: 'keyset' })).paging, { mode: 'keyset' });
    const scan = runOptions(readConfig({ ...BASE, MCAS_PAGING: 'scan', MCAS_SCAN_WINDOW_MINUTES: '0' }), {
      schedule: { nextTickMs: 2, lastTickMs: 1 },
    });
    assert.deepEqual(scan.paging, { mode: 'scan', pageSize: 5000, windowMs: 0 });
    assert.deepEqual(scan.schedule, { nextTickMs: 2, lastTickMs: 1 });
    assert.throws(
      () => readConfig({ ...BASE, MCAS_PAGING: 'fast' }),
      /MCAS_PAGING: expected "auto", "keyset" or "scan"/,
    );
  });
});

describe('tickTimes', () => {
  it("reads the host's next and last occurrences, and nothing from a timer without them", () => {
    const scheduleStatus = {
      next: '2026-12-03T12:05:00.000Z',
      last: '2026-12-03T12:00:00.000Z',
      lastUpdated: '2026-12-03T12:00:00.000Z',
    };
    assert.deepEqual(tickTimes({ scheduleStatus }), {
      nextTickMs: Date.parse(scheduleStatus.next),
      lastTickMs: Date.parse(scheduleStatus.last),
    });
    assert.deepEqual(tickTimes({}), {});
    assert.deepEqual(tickTimes({ scheduleStatus: { ...scheduleStatus, next: 'soon', last: '' } }), {});
  });
});
