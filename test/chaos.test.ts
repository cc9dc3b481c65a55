// The small variant of `npm run chaos`: the same script, a smaller data set and fewer crashes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatReport, runChaos } from '../scripts/chaos.js';

describe('chaos (small variant of npm run chaos)', () => {
  it('loses nothing and duplicates at most one batch per crash under faults and SIGKILLs', async (t) => {
    const report = await runChaos({
      activities: 3_000,
      crashes: 3,
      seed: 7,
      faultRate: 0.08,
      log: (line) => t.diagnostic(line),
    });
    t.diagnostic(formatReport(report));
    assert.equal(report.lost, 0);
    assert.equal(report.crashes, 3);
    assert.ok(report.duplicated <= report.allowedDuplicates, formatReport(report));
    assert.ok(report.mcasFaults + report.logAnalyticsFaults > 0, 'faults were injected');
    assert.equal(report.ok, true);
  });
});
