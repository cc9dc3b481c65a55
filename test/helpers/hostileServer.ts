// A loopback server that misbehaves as each test scripts it: MCAS pages in the wrong order or with a lying `hasNext`,
// answers that drip a byte at a time or hold back their headers, bodies that echo the request's headers, and a `Date`
// header from a clock of its own. Records every request.
import type { ServerResponse } from 'node:http';
import { buffer } from 'node:stream/consumers';

import { type LoopbackServer, startLoopbackServer } from '../../emulators/httpServer.js';

import type { RecordedRequest, ScriptedServer } from './scriptedServer.js';

export interface HostileRequest extends RecordedRequest {
  /** The body parsed as JSON, or undefined. */
  json: unknown;
}

export interface HostileAnswer {
  status: number;
  body: string | object;
  headers?: Record<string, string>;
  /** Holds the status line and headers back this long. */
  headersDelayMs?: number;
  /** Sends the body one byte at a time, one byte every this many ms. */
  dripIntervalMs?: number;
  /** The `Date` header (epoch ms); the host's time when absent. */
  dateMs?: number;
}

export type HostileServer = Omit<ScriptedServer, 'requests'> & { requests: HostileRequest[] };

export async function startHostileServer(
  answer: (request: HostileRequest, index: number) => HostileAnswer,
): Promise<HostileServer> {
  const requests: HostileRequest[] = [];
  // The emulators' loopback server: its waits end when it closes, so no held-back or dripping answer outlives a test.
  const server: LoopbackServer = await startLoopbackServer(async (req, res) => {
    const body = await buffer(req);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      json = undefined;
    }
    const request: HostileRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json };
    requests.push(request);
    const reply = answer(request, requests.length - 1);
    await server.wait(reply.headersDelayMs ?? 0);
    await respond(res, reply, server);
  });
  return { url: server.url, requests, close: () => server.close() };
}

/** The client hung up (or the server closed): nothing more can be sent. Re-read after every wait. */
function gone(res: ServerResponse): boolean {
  return res.destroyed;
}

async function respond(res: ServerResponse, reply: HostileAnswer, server: LoopbackServer): Promise<void> {
  if (gone(res)) return;
  const bytes = Buffer.from(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  res.writeHead(reply.status, {
    'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json',
    'content-length': String(bytes.length),
    date: new Date(reply.dateMs ?? Date.now()).toUTCString(),
    ...reply.headers,
  });
  if (reply.dripIntervalMs === undefined) {
    res.end(bytes);
    return;
  }
  res.flushHeaders();
  for (let sent = 0; sent < bytes.length; sent++) {
    await server.wait(reply.dripIntervalMs);
    if (gone(res)) return;
    res.write(bytes.subarray(sent, sent + 1));
  }
  res.end();
}

export interface McasPageScript {
  /** The tenant's activities, in any order; served by `created` ascending unless `order` says otherwise. */
  activities: readonly Record<string, unknown>[];
  /** Order of the records inside each page. */
  order?: 'asc' | 'desc' | 'shuffle';
  /** Serve the pages of the window in this order: `desc` answers the first request with the newest page. */
  pageOrder?: 'asc' | 'desc';
  /** Replaces the honest `hasNext` of page `pageIndex` (0-based, per request). */
  hasNext?: (honest: boolean, pageIndex: number) => boolean;
  /** MCAS's clock, for the `Date` header. */
  sourceNowMs?: () => number;
}

/**
 * An MCAS activities list that honours `created` gte/lte, skip and limit like the real one, then applies `script`'s
 * misbehaviour. Records with a `created` after MCAS's clock (sourceNowMs) do not exist yet.
 */
export function mcasPages(script: McasPageScript): (request: HostileRequest, index: number) => HostileAnswer {
  return (request, index) => {
    const query = request.json as {
      filters?: { created?: { gte?: number; lte?: number } };
      limit?: number;
      skip?: number;
    };
    const nowMs = script.sourceNowMs?.() ?? Date.now();
    const gte = query.filters?.created?.gte ?? 0;
    const lte = Math.min(query.filters?.created?.lte ?? Number.MAX_SAFE_INTEGER, nowMs);
    const limit = query.limit ?? 100;
    const skip = query.skip ?? 0;
    const matching = script.activities
      .filter((a) => (a['created'] as number) >= gte && (a['created'] as number) <= lte)
      .sort(
        (a, b) =>
          (a['created'] as number) - (b['created'] as number) || String(a['_id']).localeCompare(String(b['_id'])),
      );
    const ordered = script.pageOrder === 'desc' ? [...matching].reverse() : matching;
    const page = ordered.slice(skip, skip + limit);
    const honestHasNext = skip + limit < matching.length;
    let data = page;
    if (script.order === 'desc') data = [...page].reverse();
    if (script.order === 'shuffle') data = [...page].sort((a, b) => scramble(a).localeCompare(scramble(b)));
    return {
      status: 200,
      body: {
        data,
        hasNext: script.hasNext ? script.hasNext(honestHasNext, index) : honestHasNext,
        total: matching.length,
      },
      dateMs: nowMs,
    };
  };
}

/** A stable order unrelated to `created`: the record's id read backwards. */
function scramble(record: Record<string, unknown>): string {
  return Array.from(String(record['_id'])).reverse().join('');
}
