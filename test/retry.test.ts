import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { HttpStatusError } from '../src/errors.js';
import { RecordingLogger } from '../src/logger.js';
import {
  backoffDelayMs,
  LOG_ANALYTICS_RETRY,
  MCAS_RETRY,
  parseRetryAfterMs,
  type RetryPolicy,
  withRetry,
} from '../src/retry.js';
import { FakeClock } from './helpers/fakeTime.js';

function httpError(status: number, retryAfterHeader?: string, body = ''): HttpStatusError {
  return new HttpStatusError({
    service: 'MCAS',
    status,
    method: 'POST',
    url: 'http://127.0.0.1/x',
    bodyExcerpt: body,
    retryAfterHeader,
  });
}

function networkError(code: string): Error {
  return Object.assign(new Error(`socket ${code}`), { code });
}

const POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 10_000, retryOnStatus: [429, 500, 503] };

function run(failures: Error[], policy = POLICY, extra: { deadlineMs?: number } = {}) {
  const clock = new FakeClock();
  const log = new RecordingLogger();
  let calls = 0;
  const result = withRetry(
    () => {
      const failure = failures[calls++];
      return failure === undefined ? Promise.resolve('ok') : Promise.reject(failure);
    },
    policy,
    { clock, sleep: clock.sleep, log, operation: 'test call', random: () => 0.5, ...extra },
  );
  return { result, clock, log, calls: () => calls };
}

describe('parseRetryAfterMs', () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);
  it('reads delta seconds', () => assert.equal(parseRetryAfterMs('7', now), 7_000));
  it('reads an HTTP date relative to now', () =>
    assert.equal(parseRetryAfterMs('Mon, 23 Nov 2026 12:00:30 GMT', now), 30_000));
  it('treats a date in the past and "0" as now', () => {
    assert.equal(parseRetryAfterMs('Mon, 23 Nov 2026 11:00:00 GMT', now), 0);
    assert.equal(parseRetryAfterMs('0', now), 0);
  });
  it('returns undefined for absent or malformed values', () => {
    assert.equal(parseRetryAfterMs(undefined, now), undefined);
    assert.equal(parseRetryAfterMs('-5', now), undefined);
    assert.equal(parseRetryAfterMs('soon', now), undefined);
    assert.equal(parseRetryAfterMs('1.5', now), undefined);
  });
});

describe('backoffDelayMs', () => {
  it('grows exponentially under full jitter and never passes the cap', () => {
    assert.equal(
      backoffDelayMs(1, POLICY, () => 0.999999),
      99,
    );
    assert.equal(
      backoffDelayMs(3, POLICY, () => 0.999999),
      399,
    );
    assert.equal(
      backoffDelayMs(30, POLICY, () => 0.999999),
      9_999,
    );
    assert.equal(
      backoffDelayMs(5, POLICY, () => 0),
      0,
    );
  });
});

describe('withRetry', () => {
  it('retries 503 and waits for Retry-After seconds without jitter', async () => {
    const { result, clock, calls } = run([httpError(503, '2')]);
    assert.equal(await result, 'ok');
    assert.equal(calls(), 2);
    assert.deepEqual(clock.sleeps, [2_000]);
  });

  it('caps a long Retry-After at maxDelayMs', async () => {
    const { result, clock } = run([httpError(429, '3600')]);
    assert.equal(await result, 'ok');
    assert.deepEqual(clock.sleeps, [POLICY.maxDelayMs]);
  });

  it('falls back to jittered backoff when Retry-After is malformed', async () => {
    const { result, clock } = run([httpError(500, 'later'), httpError(500)]);
    assert.equal(await result, 'ok');
    assert.deepEqual(clock.sleeps, [50, 100]);
  });

  it('retries connection resets and timeouts', async () => {
    const { result, calls } = run([networkError('ECONNRESET'), networkError('UND_ERR_HEADERS_TIMEOUT')]);
    assert.equal(await result, 'ok');
    assert.equal(calls(), 3);
  });

  it('does not retry permanent statuses, TLS failures or our own bugs', async () => {
    for (const failure of [
      httpError(400),
      httpError(403),
      httpError(404),
      networkError('DEPTH_ZERO_SELF_SIGNED_CERT'),
      new TypeError('bug'),
    ]) {
      const { result, calls } = run([failure]);
      await assert.rejects(result, (error) => error === failure);
      assert.equal(calls(), 1);
    }
  });

  it('gives up after maxAttempts and throws the last error', async () => {
    const last = httpError(503);
    const { result, calls, log } = run([httpError(503), httpError(503), httpError(503), last, httpError(503)]);
    await assert.rejects(result, (error) => error === last);
    assert.equal(calls(), POLICY.maxAttempts);
    assert.equal(log.lines.filter((l) => l.level === 'warn').length, POLICY.maxAttempts - 1);
  });

  it('never sleeps past the deadline', async () => {
    const clock = new FakeClock();
    const failure = httpError(429, '30');
    const policy = { ...POLICY, maxDelayMs: 60_000 };
    const { result } = run([failure], policy, { deadlineMs: clock.nowMs() + 10_000 });
    await assert.rejects(result, (error) => error === failure);
  });

  it('treats an MCAS body that says "throttled" as throttling and waits at least a minute', async () => {
    const { result, clock } = run([httpError(400, undefined, '{"error":"Request was throttled"}')], MCAS_RETRY);
    assert.equal(await result, 'ok');
    assert.ok((clock.sleeps[0] ?? 0) >= 60_000);
  });

  it('retries the Log Analytics statuses Microsoft documents as transient only', () => {
    assert.deepEqual([...LOG_ANALYTICS_RETRY.retryOnStatus], [429, 500, 502, 503, 504]);
  });

  it('writes one warning per retry naming the operation, status and delay', async () => {
    const { result, log } = run([httpError(503, '1')]);
    await result;
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0]?.message ?? '', /^test call: attempt 1 of 4 failed \(MCAS 503\); retrying in 1000 ms\.$/);
  });
});
