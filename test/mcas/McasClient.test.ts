import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';

import { startLoopbackServer, type LoopbackServer } from '../../emulators/httpServer.js';
import { createDispatcher } from '../../src/http.js';
import { RecordingLogger } from '../../src/logger.js';
import { McasClient } from '../../src/mcas/McasClient.js';
import { tokenAuthorization } from '../../src/mcas/mcasAuth.js';
import { RequestPacer } from '../../src/mcas/RequestPacer.js';
import { Secret } from '../../src/Secret.js';
import { FakeClock } from '../helpers/fakeTime.js';

describe('McasClient and the RequestPacer', () => {
  let server: LoopbackServer;
  const dispatcher = createDispatcher();
  /** Set by the test's pacer when the client gives its slot back; the server holds the body until then (or 5 s). */
  let released: (() => void) | undefined;
  let bodySent = false;

  before(async () => {
    server = await startLoopbackServer(async (req, res) => {
      await text(req); // read the query
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      await new Promise<void>((resolve) => {
        released = resolve;
        setTimeout(resolve, 5_000).unref();
      });
      bodySent = true;
      res.end(JSON.stringify({ data: [{ _id: 'a', created: 1, timestamp: 1 }], hasNext: false, total: 1 }));
    });
  });
  after(async () => {
    await dispatcher.close();
    await server.close();
  });

  it('frees the pacer slot when the answer’s headers arrive, before the page body is read', async () => {
    const clock = new FakeClock();
    const pacer = new RequestPacer({ maxRequests: 1, windowMs: 1_000, clock, sleep: clock.sleep });
    let releasedBeforeBody: boolean | undefined;
    const acquire = pacer.acquire.bind(pacer);
    pacer.acquire = async (options) => {
      const release = await acquire(options);
      return () => {
        releasedBeforeBody ??= !bodySent;
        release();
        released?.();
      };
    };
    const client = new McasClient({
      portalUrl: server.url,
      authorization: tokenAuthorization(new Secret('token-for-the-pacer-test')),
      dispatcher,
      timeoutMs: 10_000,
      clock,
      sleep: clock.sleep,
      log: new RecordingLogger(),
      pacer,
    });
    const page = await client.list('activities', {
      filters: {},
      sortField: 'created',
      sortDirection: 'asc',
      skip: 0,
      limit: 100,
    });
    assert.equal(page.data.length, 1, 'the page is read whole after the slot was freed');
    assert.equal(releasedBeforeBody, true, 'the slot was freed while the body was still on its way');
  });
});
