// Bench section: CPU per record of the connector's own work (page parse, zod, mapping, serialization into batches,
// signing) beside a floor measured in the same rounds on the same bytes: JSON.parse of the pages, JSON.stringify of
// the rows, one HMAC per batch. Interleaved rounds, medians.
import { createHmac } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { BatchBuilder } from '../src/batch/BatchBuilder.js';
import { mapActivity } from '../src/mapping/toLogRecord.js';
import { parsePage } from '../src/mcas/McasClient.js';
import { McasActivityCoreSchema } from '../src/mcas/schema.js';
import { sharedKeyAuthorization } from '../src/sink/sharedKeyAuthorization.js';
import { benchActivities, type BenchRow, fixed, isQuick, median, thousands } from './benchSupport.js';

const PAGE_SIZE = 100;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
const WORKSPACE_ID = '5e4c0000-fa6e-4000-8000-00000000cafe';
const KEY_BYTES = Buffer.from('fake-workspace-shared-key-for-the-bench');
const DATE = new Date(0).toUTCString();

/** Keeps results alive so that no work can be optimised away. */
let checksum = 0;

function sign(contentLengthBytes: number): string {
  return sharedKeyAuthorization({
    workspaceId: WORKSPACE_ID,
    keyBytes: KEY_BYTES,
    rfc1123Date: DATE,
    contentLengthBytes,
  });
}

/** The connector's work on every page: what the client, the run and the sink do to a record between the two wires. */
function pipeline(pages: readonly Buffer[]): number {
  const builder = new BatchBuilder(MAX_BATCH_BYTES);
  let batches = 0;
  for (const body of pages) {
    for (const raw of parsePage(body).data) {
      const mapped = mapActivity(raw);
      const full = builder.add(JSON.stringify(mapped.record), mapped.id ?? '');
      if (full) {
        checksum += sign(full.body.length).length;
        builder.recycle(full); // as the run does once the sink accepted a batch
        batches++;
      }
    }
  }
  const last = builder.flush();
  if (last) {
    checksum += sign(last.body.length).length;
    batches++;
  }
  return batches;
}

/** The least any connector must do: parse the page bytes, serialize the rows, one HMAC per batch. */
function floor(pages: readonly Buffer[], rows: readonly unknown[], batches: number): void {
  for (const body of pages) checksum += (JSON.parse(body.toString('utf8')) as { data: unknown[] }).data.length;
  for (const row of rows) checksum += JSON.stringify(row).length;
  for (let i = 0; i < batches; i++) {
    checksum += createHmac('sha256', KEY_BYTES)
      .update(`POST\n${i}\napplication/json\nx-ms-date:${DATE}\n/api/logs`)
      .digest('base64').length;
  }
}

/**
 * A full garbage collection, run between measurements so that neither pays for the other's garbage. The flag lets a
 * fresh context see `gc`; the bench keeps running without it if that is refused.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('typeof gc === "function" ? gc : undefined') as (() => void) | undefined;
  gc?.();
}

/** CPU time of this process (user + system, GC threads included) per record; waiting for a busy CPU does not count. */
function microsecondsPerRecord(work: () => void, records: number): number {
  collectGarbage();
  const started = process.cpuUsage();
  work();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / records;
}

/** zod alone: each page is parsed untimed, then its records are validated under the clock. */
function zodMicrosecondsPerRecord(pages: readonly Buffer[], records: number): number {
  collectGarbage();
  let used = 0;
  for (const body of pages) {
    const data = parsePage(body).data;
    const started = process.cpuUsage();
    for (const raw of data) checksum += Number(McasActivityCoreSchema.safeParse(raw).success);
    const { user, system } = process.cpuUsage(started);
    used += user + system;
  }
  return used / records;
}

export async function benchCpu(log: (line: string) => void): Promise<BenchRow[]> {
  const count = isQuick() ? 5_000 : 20_000;
  const rounds = isQuick() ? 5 : 9;
  const activities = benchActivities(count);
  const pages: Buffer[] = [];
  for (let i = 0; i < activities.length; i += PAGE_SIZE) {
    const data = activities.slice(i, i + PAGE_SIZE);
    pages.push(Buffer.from(JSON.stringify({ data, hasNext: i + PAGE_SIZE < activities.length, total: count })));
  }
  const rows = pages.flatMap((body) => [...parsePage(body).data].map((raw) => mapActivity(raw).record));
  const batches = pipeline(pages);
  log(`  ${rounds} interleaved rounds over ${thousands(count)} records ...`);
  for (let i = 0; i < 2; i++) {
    pipeline(pages);
    floor(pages, rows, batches);
  }
  const floorUs: number[] = [];
  const pipelineUs: number[] = [];
  const ratios: number[] = [];
  const zodUs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let f: number;
    let p: number;
    if (round % 2 === 0) {
      f = microsecondsPerRecord(() => floor(pages, rows, batches), count);
      p = microsecondsPerRecord(() => pipeline(pages), count);
    } else {
      p = microsecondsPerRecord(() => pipeline(pages), count);
      f = microsecondsPerRecord(() => floor(pages, rows, batches), count);
    }
    floorUs.push(f);
    pipelineUs.push(p);
    ratios.push(p / f);
    if (process.env['BENCH_DEBUG']) log(`    round ${round}: pipeline ${fixed(p)} us, floor ${fixed(f)} us`);
    zodUs.push(zodMicrosecondsPerRecord(pages, count));
  }
  if (checksum === 0) throw new Error('nothing was computed');
  const ratio = median(ratios);
  const section = `CPU per record (${thousands(count)} records, median of ${rounds} interleaved rounds)`;
  return [
    {
      section,
      figure: 'parse + zod + map + serialize + batch + sign, over the floor',
      measured: `${fixed(median(pipelineUs))} us / ${fixed(median(floorUs))} us = ${fixed(ratio)}x`,
      target: '<= 2x floor (JSON.parse of pages + JSON.stringify of rows + 1 HMAC per batch)',
      pass: ratio <= 2,
    },
    {
      section,
      figure: 'of which zod validation (McasActivityCoreSchema)',
      measured: `${fixed(median(zodUs))} us`,
      target: 'for information',
    },
  ];
}
