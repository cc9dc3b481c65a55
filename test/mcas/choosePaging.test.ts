import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { choosePaging, estimateBacklog, KEYSET_RETURN_SHARE, KEYSET_SHARE } from '../../src/mcas/choosePaging.js';

describe('estimateBacklog', () => {
  it("takes MCAS's count when it gave one, else the observed rate over what is left of the window", () => {
    assert.equal(estimateBacklog({ total: 12_345, ratePerMs: 99, remainingWindowMs: 1_000 }), 12_345);
    assert.equal(estimateBacklog({ total: undefined, ratePerMs: 0.5, remainingWindowMs: 60_000 }), 30_000);
    assert.equal(estimateBacklog({ total: undefined, ratePerMs: 0.5, remainingWindowMs: -5 }), 0);
    assert.equal(estimateBacklog({ total: Number.NaN, ratePerMs: 0.01, remainingWindowMs: 1_000 }), 10);
    assert.equal(estimateBacklog({ total: undefined, ratePerMs: undefined, remainingWindowMs: 1_000 }), undefined);
  });
});

describe('choosePaging', () => {
  // 140 requests left (a five-minute run at 30 a minute) read 14,000 activities in keyset pages of 100.
  const base = { requestsLeft: 140, keysetPageSize: 100 };

  it('keeps keyset while the backlog fits in its share of what the remaining requests read, ties included', () => {
    const line = KEYSET_SHARE * 14_000;
    assert.equal(choosePaging({ ...base, backlog: 0, current: 'keyset' }), 'keyset');
    assert.equal(choosePaging({ ...base, backlog: line, current: 'keyset' }), 'keyset');
    assert.equal(choosePaging({ ...base, backlog: line + 1, current: 'keyset' }), 'scan');
  });

  it('comes back from scan only below a lower line, so a backlog near the line does not flip every sub-window', () => {
    const back = KEYSET_RETURN_SHARE * 14_000;
    assert.equal(choosePaging({ ...base, backlog: back + 1, current: 'scan' }), 'scan');
    assert.equal(choosePaging({ ...base, backlog: back, current: 'scan' }), 'keyset');
  });

  it('scans when no request is left for keyset, and keeps the current mode when the backlog is unknown', () => {
    assert.equal(choosePaging({ ...base, requestsLeft: 0, backlog: 1, current: 'keyset' }), 'scan');
    assert.equal(choosePaging({ ...base, backlog: undefined, current: 'scan' }), 'scan');
    assert.equal(choosePaging({ ...base, backlog: undefined, current: 'keyset' }), 'keyset');
  });
});
