import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { prefetchOne } from '../src/prefetch.js';

/** A source that records when each item was asked for, relative to what the consumer has finished. */
function source(count: number, log: string[], failAt?: number) {
  let closed = false;
  async function* items(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < count; i++) {
        log.push(`fetch ${i}`);
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (i === failAt) throw new Error(`fetch ${i} failed`);
        yield i;
      }
    } finally {
      closed = true;
    }
  }
  return { items: items(), isClosed: () => closed };
}

describe('prefetchOne', () => {
  it('yields every item in order and asks for the next one before the current one is processed', async () => {
    const log: string[] = [];
    const { items } = source(3, log);
    const seen: number[] = [];
    for await (const item of prefetchOne(items)) {
      log.push(`process ${item}`);
      seen.push(item);
    }
    assert.deepEqual(seen, [0, 1, 2]);
    assert.ok(log.indexOf('fetch 1') < log.indexOf('process 0'), log.join(', '));
    assert.ok(log.indexOf('fetch 2') < log.indexOf('process 1'), log.join(', '));
  });

  it('closes the source and settles the fetch in flight when the consumer stops early', async () => {
    const log: string[] = [];
    const { items, isClosed } = source(10, log);
    for await (const item of prefetchOne(items)) if (item === 1) break;
    assert.equal(isClosed(), true);
    assert.ok(!log.includes('fetch 4'), 'never more than one item ahead');
  });

  it('passes a failed fetch on to the consumer after the items before it', async () => {
    const seen: number[] = [];
    const { items } = source(5, [], 2);
    await assert.rejects(async () => {
      for await (const item of prefetchOne(items)) seen.push(item);
    }, /fetch 2 failed/);
    assert.deepEqual(seen, [0, 1]);
  });

  it('does not fetch ahead after an item it is told to hold after, until the consumer asks', async () => {
    const log: string[] = [];
    const { items, isClosed } = source(4, log);
    for await (const item of prefetchOne(items, (i) => i === 1)) {
      log.push(`process ${item}`);
      if (item === 1) break;
    }
    assert.deepEqual(log, ['fetch 0', 'fetch 1', 'process 0', 'process 1']);
    assert.equal(isClosed(), true);

    const all: string[] = [];
    for await (const item of prefetchOne(source(4, all).items, (i) => i === 1)) all.push(`process ${item}`);
    assert.ok(all.indexOf('fetch 2') > all.indexOf('process 1'), all.join(', '));
    assert.ok(all.indexOf('fetch 3') < all.indexOf('process 2'), all.join(', '));
  });
});
