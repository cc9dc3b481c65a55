// A loopback server that misbehaves as each test scripts it: MCAS pages in the wrong order or with a lying `hasNext`,
// answers that drip a byte at a time or hold back their headers, bodies that echo the request's headers, and a `Date`
// header from a clock of its own. Records every request.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

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
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        json = undefined;
      }
      const request: HostileRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        json,
      };
      requests.push(request);
      const reply = answer(request, requests.length - 1);
      later(reply.headersDelayMs ?? 0, () => respond(res, reply, later));
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function respond(res: ServerResponse, reply: HostileAnswer, later: (ms: number, fn: () => void) => void): void {
  if (res.destroyed) return;
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
  const interval = reply.dripIntervalMs;
  let sent = 0;
  const next = (): void => {
    if (res.destroyed) return;
    res.write(bytes.subarray(sent, sent + 1));
    sent += 1;
    if (sent >= bytes.length) res.end();
    else later(interval, next);
  };
  res.flushHeaders();
  later(interval, next);
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
