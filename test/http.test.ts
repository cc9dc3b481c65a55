import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startLoopbackServer, type LoopbackServer } from '../emulators/httpServer.js';
import { DeadlineReachedError, HttpStatusError } from '../src/errors.js';
import {
  createDispatcher,
  type HttpRequest,
  isTransientNetworkError,
  ReceiveBuffer,
  sendRequest,
} from '../src/http.js';

/** A body of `size` bytes, written in chunks of 16 KiB so that it arrives as many socket reads. */
function bodyOf(size: number, fill: string): Buffer {
  return Buffer.alloc(size, fill);
}

describe('sendRequest with a ReceiveBuffer', () => {
  let server: LoopbackServer;
  const dispatcher = createDispatcher();

  before(async () => {
    server = await startLoopbackServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const size = Number(url.searchParams.get('size'));
      const status = Number(url.searchParams.get('status') ?? 200);
      const body = bodyOf(size, url.searchParams.get('fill') ?? 'a');
      const stall = url.searchParams.get('stall');
      if (stall === 'headers') return Promise.resolve(); // never answers; the client's timeout or abort ends it
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(body.length) });
      if (stall === 'body') {
        res.write(body.subarray(0, 1_000)); // the rest never comes
        return Promise.resolve();
      }
      for (let offset = 0; offset < body.length; offset += 16 * 1024)
        res.write(body.subarray(offset, offset + 16 * 1024));
      res.end();
      return Promise.resolve();
    });
  });
  after(async () => {
    await dispatcher.close();
    await server.close();
  });

  /** GET /?query from the test server; `options` replace or add to the request's fields. */
  const send = (query: string, options: Partial<HttpRequest> = {}) =>
    sendRequest(dispatcher, {
      service: 'MCAS',
      method: 'GET',
      url: new URL(`/?${query}`, server.url),
      headers: {},
      timeoutMs: 5_000,
      ...options,
    });
  const get = (query: string, receiveBuffer: ReceiveBuffer, maxResponseBytes?: number) =>
    send(query, { receiveBuffer, ...(maxResponseBytes ? { maxResponseBytes } : {}) });

  it('gathers body after body into the same memory, growing it for a body larger than any before', async () => {
    const shared = new ReceiveBuffer();
    const first = await get('size=300000&fill=x', shared);
    assert.ok(first.body.equals(bodyOf(300_000, 'x')), 'a body of many chunks arrives whole');
    const memory = first.body.buffer;
    first.release();
    const second = await get('size=200000&fill=y', shared);
    assert.ok(second.body.equals(bodyOf(200_000, 'y')));
    assert.equal(second.body.buffer, memory, 'the second body reuses the first one’s memory');
    second.release();
  });

  it('reads into fresh memory while the shared buffer is still held, leaving the held body intact', async () => {
    const shared = new ReceiveBuffer();
    const held = await get('size=100000&fill=p', shared);
    const other = await get('size=100000&fill=q', shared);
    assert.notEqual(other.body.buffer, held.body.buffer);
    assert.ok(held.body.equals(bodyOf(100_000, 'p')), 'the held body was not written over');
    assert.ok(other.body.equals(bodyOf(100_000, 'q')));
    other.release(); // a body in fresh memory: releasing it must not free the buffer another body holds
    assert.equal(shared.hold(), false);
    held.release();
    assert.equal(shared.hold(), true);
  });

  it('leaves the buffer free after an error status and after a body over the cap', async () => {
    const shared = new ReceiveBuffer();
    await assert.rejects(
      get('size=100&status=503&fill=e', shared),
      (error: unknown) => error instanceof HttpStatusError && error.status === 503,
    );
    await assert.rejects(get('size=100000', shared, 50_000), /Response body exceeded 50000 bytes/);
    assert.equal(shared.hold(), true);
  });

  it('ends a request whose headers or body stall with undici’s timeout errors, which count as transient', async () => {
    const shared = new ReceiveBuffer();
    const stalled = (stall: string) => send(`size=5000&stall=${stall}`, { timeoutMs: 300, receiveBuffer: shared });
    for (const [stall, code] of [
      ['headers', 'UND_ERR_HEADERS_TIMEOUT'],
      ['body', 'UND_ERR_BODY_TIMEOUT'],
    ]) {
      await assert.rejects(stalled(stall as string), (error: unknown) => {
        assert.equal((error as { code?: string }).code, code);
        assert.ok(isTransientNetworkError(error));
        return true;
      });
    }
    assert.equal(shared.hold(), true, 'the buffer is free again after a body cut short');
  });

  it('ends the whole exchange by budgetMs with DeadlineReachedError, well inside the per-chunk timeout', async () => {
    const shared = new ReceiveBuffer();
    for (const stall of ['headers', 'body']) {
      const started = Date.now();
      await assert.rejects(
        send(`size=5000&stall=${stall}`, { timeoutMs: 10_000, budgetMs: 150, receiveBuffer: shared }),
        (error: unknown) =>
          error instanceof DeadlineReachedError && /time budget ran out during a request to/.test(error.message),
      );
      assert.ok(Date.now() - started < 5_000, `${stall}: took ${Date.now() - started} ms`);
    }
    await assert.rejects(send('size=10', { budgetMs: 0 }), DeadlineReachedError);
    assert.equal(shared.hold(), true, 'the buffer is free again after a request cut at the budget');
  });

  it('rejects with the signal’s reason when aborted while waiting for the headers or in the middle of the body', async () => {
    const shared = new ReceiveBuffer();
    for (const stall of ['headers', 'body']) {
      const controller = new AbortController();
      const reason = new Error(`run stopped (${stall})`);
      const pending = send(`size=5000&stall=${stall}`, {
        timeoutMs: 10_000,
        signal: controller.signal,
        receiveBuffer: shared,
        onResponse: () => controller.abort(reason),
      });
      if (stall === 'headers') setTimeout(() => controller.abort(reason), 50);
      await assert.rejects(pending, (error: unknown) => error === reason);
    }
    const aborted = AbortSignal.abort(new Error('already stopped'));
    await assert.rejects(send('size=10', { timeoutMs: 1_000, signal: aborted }), /already stopped/);
    assert.equal(shared.hold(), true);
  });

  it('tells onResponse once the headers are in, for a success and for an error status alike', async () => {
    const calls: number[] = [];
    const onResponse = () => calls.push(calls.length);
    await send('size=10', { onResponse });
    assert.equal(calls.length, 1);
    await assert.rejects(
      send('size=10&status=429', { onResponse }),
      (error: unknown) => error instanceof HttpStatusError && error.status === 429,
    );
    assert.equal(calls.length, 2);
  });
});
