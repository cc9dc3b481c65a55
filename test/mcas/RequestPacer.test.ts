import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DeadlineReachedError } from '../../src/errors.js';
import { RequestPacer } from '../../src/mcas/RequestPacer.js';
import { FakeClock } from '../helpers/fakeTime.js';

describe('RequestPacer', () => {
  it('lets the allowed number of requests through at once and spaces the rest over the window', async () => {
    const clock = new FakeClock();
    const start = clock.nowMs();
    const pacer = new RequestPacer({ maxRequests: 30, windowMs: 60_000, clock, sleep: clock.sleep });
    const sentAt: number[] = [];
    for (let i = 0; i < 75; i++) {
      const release = await pacer.acquire();
      sentAt.push(clock.nowMs() - start);
      release();
    }
    assert.ok(sentAt.slice(0, 30).every((t) => t === 0));
    assert.equal(sentAt[30], 60_000);
    assert.equal(sentAt[60], 120_000);
    // No 60-second window ever holds more than 30 requests.
    for (let i = 30; i < sentAt.length; i++) assert.ok((sentAt[i] as number) - (sentAt[i - 30] as number) >= 60_000);
    assert.equal(pacer.waitedMs, 120_000);
  });

  it("uses Microsoft's one-minute window by default, and a shorter one when given", async () => {
    for (const [options, windowMs] of [
      [{}, 60_000],
      [{ windowMs: 1_000 }, 1_000],
    ] as const) {
      const clock = new FakeClock();
      const start = clock.nowMs();
      const pacer = new RequestPacer({ maxRequests: 2, clock, sleep: clock.sleep, ...options });
      const sentAt: number[] = [];
      for (let i = 0; i < 3; i++) {
        const release = await pacer.acquire();
        sentAt.push(clock.nowMs() - start);
        release();
      }
      assert.deepEqual(sentAt, [0, 0, windowMs]);
    }
  });

  it('counts a request from when its answer came, so a slow answer cannot make the server see too many', async () => {
    const clock = new FakeClock();
    const start = clock.nowMs();
    const pacer = new RequestPacer({ maxRequests: 2, windowMs: 1_000, clock, sleep: clock.sleep });
    const first = await pacer.acquire();
    clock.advance(400); // the first answer takes 400 ms
    first();
    (await pacer.acquire())();
    await pacer.acquire();
    // The third request waits until the first request's *answer* is a window old: 400 + 1000 ms after the start.
    assert.equal(clock.nowMs() - start, 1_400);
  });

  it('holds a slot for a request in flight until it is released', async () => {
    const clock = new FakeClock();
    const pacer = new RequestPacer({ maxRequests: 1, windowMs: 1_000, clock, sleep: clock.sleep });
    const release = await pacer.acquire();
    const second = pacer.acquire();
    let got = false;
    void second.then(() => (got = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(got, false, 'no second slot while the first request is in flight');
    release();
    release(); // a second call changes nothing
    await second;
    assert.ok(clock.nowMs() >= 1_000);
  });

  it('refuses to wait past the deadline', async () => {
    const clock = new FakeClock();
    const pacer = new RequestPacer({ maxRequests: 2, windowMs: 60_000, clock, sleep: clock.sleep });
    (await pacer.acquire())();
    (await pacer.acquire())();
    await assert.rejects(pacer.acquire({ deadlineMs: clock.nowMs() + 30_000 }), DeadlineReachedError);
    assert.deepEqual(clock.sleeps, []);
  });
});
