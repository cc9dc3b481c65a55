// The ingesting process of the bench, apart from the emulators (which run in the parent, as the real services run
// elsewhere): one run from the environment, then one JSON line on stdout with its peak RSS and, when observed, what
// each MCAS call returned and when. Not a CLI for people; scripts/benchRequests.ts and benchMemory.ts start it.
//
// By default it runs runOnce(process.env), the production path. With BENCH_OBSERVE=1 it builds the run's dependencies
// itself, as test/helpers/pipeline.ts does, so that it can observe the MCAS client and, with BENCH_PACE=<n>/<ms>,
// pace it with its own RequestPacer; BENCH_SERIAL=1 holds each request until the run has consumed the page before.
import { getHeapSpaceStatistics } from 'node:v8';

import { MemoryCheckpointStore } from '../src/checkpoint/MemoryCheckpointStore.js';
import { sleep, systemClock } from '../src/clock.js';
import { readConfig } from '../src/config.js';
import { createDispatcher } from '../src/http.js';
import type { Logger } from '../src/logger.js';
import { McasClient } from '../src/mcas/McasClient.js';
import { tokenAuthorization } from '../src/mcas/mcasAuth.js';
import { RequestPacer } from '../src/mcas/RequestPacer.js';
import { MCAS_RETRY } from '../src/retry.js';
import { runIngestion, type RunSummary } from '../src/run.js';
import { runOnce, runOptions } from '../src/runOnce.js';
import { Secret } from '../src/Secret.js';
import { loadSecrets } from '../src/secrets.js';
import { createDependencies } from '../src/wiring.js';
import { type ObservedCall, observeClient } from './benchSupport.js';

export interface ChildResult {
  /** process.resourceUsage().maxRSS: peak resident set size in kilobytes. */
  maxRssKb: number;
  elapsedMs: number;
  fetched: number;
  sent: number;
  batches: number;
  moreToDo: boolean;
  warnings: number;
  /** BENCH_OBSERVE=1 only: every MCAS page call, in order. */
  calls?: ObservedCall[];
  /** BENCH_SAMPLE_MS=<n> only: memory by kind (MB) at the sample with the largest RSS, for finding what the peak holds. */
  peakSample?: Record<string, number>;
}

/** Samples memory every `everyMs` and keeps the breakdown at the largest RSS seen. */
function sampleMemory(everyMs: number): { stop(): Record<string, number> } {
  let peak: Record<string, number> = {};
  const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);
  const timer = setInterval(() => {
    const usage = process.memoryUsage();
    if (usage.rss / 2 ** 20 <= (peak['rss'] ?? 0)) return;
    peak = {
      rss: mb(usage.rss),
      heapTotal: mb(usage.heapTotal),
      external: mb(usage.external),
      arrayBuffers: mb(usage.arrayBuffers),
    };
    for (const space of getHeapSpaceStatistics()) peak[space.space_name] = mb(space.space_size);
  }, everyMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

/** runIngestion with dependencies built here: an observed MCAS client, optionally paced and held back. */
async function observedRun(
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<{ summary: RunSummary; calls: ObservedCall[] }> {
  const config = readConfig(env);
  const secrets = await loadSecrets(config.secrets, { log });
  const clock = systemClock;
  const runtime = await createDependencies(config, secrets, log, {
    checkpoints: new MemoryCheckpointStore('activities'),
    clock,
    sleep,
  });
  const pace = /^(\d+)\/(\d+)$/.exec(env['BENCH_PACE'] ?? '');
  const dispatcher = pace ? createDispatcher() : undefined;
  const mcas =
    pace && dispatcher
      ? new McasClient({
          portalUrl: config.mcas.portalUrl,
          authorization: tokenAuthorization(new Secret(env['MCAS_API_TOKEN'] ?? '')),
          dispatcher,
          timeoutMs: config.mcas.requestTimeoutMs,
          clock,
          sleep,
          log,
          retry: { ...MCAS_RETRY, throttleMinDelayMs: config.mcas.throttleWaitMs },
          pacer: new RequestPacer({ maxRequests: Number(pace[1]), windowMs: Number(pace[2]), clock, sleep }),
        })
      : runtime.deps.mcas;

  // Serial: call n waits until the run reports page n - 1 as consumed (mapped, batched, sent when a batch filled).
  let consumed = 0;
  let wake: (() => void) | undefined;
  const beforeCall =
    env['BENCH_SERIAL'] === '1'
      ? async (callNumber: number): Promise<void> => {
          while (consumed < callNumber - 1) await new Promise<void>((resolve) => (wake = resolve));
        }
      : undefined;
  const observed = observeClient(mcas, beforeCall);
  try {
    const summary = await runIngestion(
      { ...runtime.deps, mcas: observed.client },
      {
        ...runOptions(config),
        onProgress: (progress) => {
          consumed = progress.pages;
          wake?.();
        },
      },
    );
    return { summary, calls: observed.calls };
  } finally {
    await Promise.all([runtime.close(), dispatcher?.close()]);
  }
}

async function main(): Promise<void> {
  let warnings = 0;
  const log: Logger = {
    info: () => undefined,
    warn: (message) => {
      warnings++;
      if (!message.startsWith('Secrets were read from app settings')) process.stderr.write(`[warn] ${message}\n`);
    },
    error: (message) => process.stderr.write(`[error] ${message}\n`),
  };
  const started = performance.now();
  const sampleMs = Number(process.env['BENCH_SAMPLE_MS'] ?? 0);
  const sampler = sampleMs > 0 ? sampleMemory(sampleMs) : undefined;
  const { summary, calls } =
    process.env['BENCH_OBSERVE'] === '1'
      ? await observedRun(process.env, log)
      : { summary: await runOnce(process.env, log), calls: undefined };
  const result: ChildResult = {
    maxRssKb: process.resourceUsage().maxRSS,
    elapsedMs: performance.now() - started,
    fetched: summary.fetched,
    sent: summary.sent,
    batches: summary.batches,
    moreToDo: summary.moreToDo,
    warnings,
    ...(calls ? { calls } : {}),
    ...(sampler ? { peakSample: sampler.stop() } : {}),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
