import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { describeProgress, estimateEtaMs, formatDuration, progressWriter } from '../src/progress.js';
import type { RunProgress } from '../src/run.js';

const LIMITS = { requestsPerMinute: 30 };

/** Carriage return, then ESC [2K (erase the whole line): how the writer redraws its line on a terminal. */
const REDRAW = '\r\u001b[2K';

/** The text of a redrawn line; fails the test when the line is missing or not redrawn. */
function redrawnText(line: string | undefined): string {
  assert.ok(line !== undefined && line.startsWith(REDRAW), `not a redrawn line: ${JSON.stringify(line)}`);
  return line.slice(REDRAW.length);
}

const progress: RunProgress = {
  pages: 12,
  fetched: 1180,
  sent: 1000,
  cursorMs: 1_000 + 435,
  windowStartMs: 1_000,
  windowEndMs: 2_000,
  remaining: 4_300,
};

describe('progress', () => {
  it('estimates the time left from the records left and the request limit, and says how many are left', () => {
    // 4,300 left at about 98 a request is 44 requests: 88 s at 30 a minute, slower than the 36 s the rate so far says.
    assert.equal(
      describeProgress(progress, 10_000, LIMITS),
      'pages 12, records 1,180 fetched / 1,000 sent, about 4,300 left, 21.5 % of the records, ' +
        'at 1970-01-01T00:00:01.435Z, 118/s, ETA 1m 28s',
    );
    assert.equal(formatDuration(3_725_000), '1h 2m');
  });

  it('does not promise the burst rate of the first requests: 30 quick pages with 57,000 left take about 19 minutes', () => {
    const burst = { ...progress, pages: 30, fetched: 3_000, remaining: 57_000 };
    // Read in 3 s, before the first wait for the rate limit: by the rate alone the ETA would be under a minute.
    assert.equal(formatDuration(estimateEtaMs(burst, 3_000, LIMITS) ?? 0), '19m 0s');
    // Once reading is slower than the limit, the observed rate decides.
    assert.equal(formatDuration(estimateEtaMs(burst, 600_000, LIMITS) ?? 0), '3h 10m');
  });

  it('without a count from MCAS (scan paging), assumes the rest of the window is as dense as what was read', () => {
    const scan = { ...progress, remaining: undefined, cursorMs: 1_250, fetched: 5_000, pages: 1 };
    assert.match(describeProgress(scan, 10_000, LIMITS), /about 15,000 left, 25\.0 % of the range/);
  });

  it('counts the share of a resumed backfill from the start of its range, not from where it resumed', () => {
    const resumed = { ...progress, windowStartMs: 1_500, cursorMs: 1_507, rangeStartMs: 1_000 };
    assert.match(describeProgress(resumed, 10_000, LIMITS), /50\.7 % of the range/);
    const alone = { ...resumed, rangeStartMs: undefined, remaining: undefined };
    assert.match(describeProgress(alone, 10_000, LIMITS), /1\.4 % of the range/);
  });

  it('rewrites one line on a terminal', () => {
    const written: string[] = [];
    const writer = progressWriter({ isTTY: true, write: (t) => written.push(t) }, () => 0, LIMITS);
    writer.update(progress);
    writer.update({ ...progress, pages: 13 });
    writer.done();
    assert.equal(written.length, 3);
    assert.ok(written[0]?.startsWith('\r\u001b[2K'));
    assert.equal(written[2], '\n');
  });

  it('on a terminal, counts a wait for the rate limit down on the live line until it is over', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const written: string[] = [];
    let now = 0;
    const writer = progressWriter({ isTTY: true, write: (text) => written.push(text) }, () => now, LIMITS);
    now = 10_000;
    writer.update(progress);
    writer.wait({ kind: 'rateLimit', waitMs: 57_000, requestsPerMinute: 30 });
    now = 11_000;
    t.mock.timers.tick(1_000);
    // The page read ahead is reported while the next request waits: the countdown stays.
    now = 12_000;
    writer.update({ ...progress, pages: 13 });
    now = 67_000;
    t.mock.timers.tick(55_000);
    t.mock.timers.tick(5_000); // over: no more frames
    writer.done();
    const lines = written.filter((w) => w.startsWith('\r'));
    assert.equal(lines.length, 5, JSON.stringify(lines));
    assert.match(
      redrawnText(lines[1]),
      /^waiting 57s for MCAS's rate limit \(30 requests a minute\); pages 12, .*ETA 1m 28s$/,
    );
    assert.match(redrawnText(lines[2]), /^waiting 56s for MCAS's rate limit/);
    assert.match(redrawnText(lines[3]), /^waiting 55s for MCAS's rate limit .*; pages 13, /);
    assert.match(redrawnText(lines[4]), /^pages 13, /);
  });

  it('writes plain lines, at most one per interval, and one at the start of each wait, elsewhere', () => {
    const written: string[] = [];
    let now = 0;
    const writer = progressWriter({ isTTY: false, write: (t) => written.push(t) }, () => now, LIMITS, {
      plainEveryMs: 10_000,
    });
    writer.update(progress);
    now = 5_000;
    writer.update(progress);
    writer.wait({ kind: 'rateLimit', waitMs: 500, requestsPerMinute: 30 }); // too short to mention
    writer.wait({ kind: 'throttled', waitMs: 60_000, requestsPerMinute: 30 });
    now = 10_000;
    writer.update(progress);
    writer.done();
    assert.equal(written.length, 2);
    assert.ok(written.every((line) => line.startsWith('progress: ') && line.endsWith('\n')));
    assert.match(written[1] ?? '', /^progress: waiting 1m 0s for MCAS, which throttled the last request; pages 12/);
  });

  it('never writes a log line onto the live line: it clears it, logs, and draws it again', () => {
    const written: string[] = [];
    const stream = { isTTY: true, write: (t: string) => written.push(t) };
    const writer = progressWriter(stream, () => 0, LIMITS);
    const log = writer.logger({
      info: (m) => stream.write(`[info] ${m}\n`),
      warn: (m) => stream.write(`[warn] ${m}\n`),
      error: (m) => stream.write(`[error] ${m}\n`),
    });
    log.info('before any progress');
    writer.update(progress);
    log.info('Run done');
    writer.done();
    const screen = written.join('');
    assert.ok(screen.startsWith('[info] before any progress\n'));
    const live = describeProgress(progress, 0, LIMITS);
    assert.ok(screen.endsWith(`\r\u001b[2K${live}\r\u001b[2K[info] Run done\n${live}\n`), JSON.stringify(screen));
  });

  it('never shows an ETA shorter than the wait in progress', () => {
    const almostDone = { ...progress, remaining: 10 };
    assert.match(describeProgress(almostDone, 10_000, LIMITS), /ETA 2s$/);
    assert.match(describeProgress(almostDone, 10_000, LIMITS, 57_000), /ETA 57s$/);
  });
});
