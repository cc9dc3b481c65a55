import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { describeProgress, formatDuration, progressWriter } from '../src/progress.js';

const progress = {
  pages: 12,
  fetched: 1180,
  sent: 1000,
  cursorMs: 1_000 + 435,
  windowStartMs: 1_000,
  windowEndMs: 2_000,
};

describe('progress', () => {
  it('says how far through the range a run is and when it should end', () => {
    assert.equal(
      describeProgress(progress, 10_000),
      'pages 12, records 1,180 fetched / 1,000 sent, 43.5 % of the range, at 1970-01-01T00:00:01.435Z, ETA 13s',
    );
    assert.equal(formatDuration(3_725_000), '1h 2m');
  });

  it('rewrites one line on a terminal', () => {
    const written: string[] = [];
    const writer = progressWriter({ isTTY: true, write: (t) => written.push(t) }, () => 0);
    writer.update(progress);
    writer.update({ ...progress, pages: 13 });
    writer.done();
    assert.equal(written.length, 3);
    assert.ok(written[0]?.startsWith('\r\u001b[2K'));
    assert.equal(written[2], '\n');
  });

  it('writes plain lines, at most one per interval, elsewhere', () => {
    const written: string[] = [];
    let now = 0;
    const writer = progressWriter({ isTTY: false, write: (t) => written.push(t) }, () => now, 10_000);
    writer.update(progress);
    now = 5_000;
    writer.update(progress);
    now = 10_000;
    writer.update(progress);
    writer.done();
    assert.equal(written.length, 2);
    assert.ok(written.every((line) => line.startsWith('progress: ') && line.endsWith('\n')));
  });

  it('never writes a log line onto the live line: it clears it, logs, and draws it again', () => {
    const written: string[] = [];
    const stream = { isTTY: true, write: (t: string) => written.push(t) };
    const writer = progressWriter(stream, () => 0);
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
    const live = describeProgress(progress, 0);
    assert.ok(screen.endsWith(`\r\u001b[2K${live}\r\u001b[2K[info] Run done\n${live}\n`), JSON.stringify(screen));
  });
});
