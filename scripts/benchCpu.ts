// Bench section: CPU per record of the connector's own work (page parse, zod, mapping, serialization into batches,
// signing) beside a floor measured in the same rounds on the same bytes: JSON.parse of the pages, JSON.stringify of
// the rows, one HMAC per batch. Interleaved rounds, medians.
import { createHmac } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { BatchBuilder } from '../src/batch/BatchBuilder.js';
import { mapActivity } from '../src/mapping/toLogRecord.js';
import { indexPage } from '../src/mcas/indexPage.js';
import { parsePage } from '../src/mcas/McasClient.js';
import { McasActivityCoreSchema } from '../src/mcas/schema.js';
import { sharedKeyAuthorization } from '../src/sink/sharedKeyAuthorization.js';
import { benchActivities, type BenchRow, fixed, isQuick, median, thousands } from './benchSupport.js';

const PAGE_SIZE = 100;
const SCAN_PAGE_SIZE = 5_000;
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
function pipeline(pages: readonly Buffer[], lazy = false): number {
  const builder = new BatchBuilder(MAX_BATCH_BYTES);
  let batches = 0;
  for (const body of pages) {
    for (const raw of parsePage(body, { lazy }).data) {
      const mapped = mapActivity(raw);
      const row = JSON.stringify(mapped.record);
      const full = builder.fits(row, mapped.id ?? '') ? undefined : builder.flush();
      if (full) {
        checksum += sign(full.body.length).length;
        builder.recycle(full); // as the run does once the sink accepted a batch
        batches++;
      }
      builder.add(row, mapped.id ?? '');
    }
  }
  const last = builder.flush();
  if (last) {
    checksum += sign(last.body.length).length;
    batches++;
  }
  return batches;
}

/**
 * The least any connector must do: parse the page bytes, serialize the rows, one HMAC per batch. With `perRecord`,
 * the page is parsed as this connector does it, record by record from its bytes (indexPage), which V8 does faster
 * than one JSON.parse of the whole page (a page-long string is two-byte as soon as one character is not ASCII).
 */
function floor(pages: readonly Buffer[], rows: readonly unknown[], batches: number, perRecord = false): void {
  for (const body of pages) {
    if (!perRecord) checksum += (JSON.parse(body.toString('utf8')) as { data: unknown[] }).data.length;
    else {
      const index = indexPage(body);
      const starts = index.starts ?? [];
      for (let i = 0; i < starts.length; i++)
        checksum += Number(JSON.parse(body.toString('utf8', starts[i], index.ends[i])) !== null);
    }
  }
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
    const data = [...parsePage(body).data];
    const started = process.cpuUsage();
    for (const raw of data) checksum += Number(McasActivityCoreSchema.safeParse(raw).success);
    const { user, system } = process.cpuUsage(started);
    used += user + system;
  }
  return used / records;
}

/** Interleaved rounds of `work` against `base`; the median of the rounds' ratios and of each side's figure. */
function interleaved(
  rounds: number,
  count: number,
  work: () => void,
  base: () => void,
  label: string,
  log: (line: string) => void,
): { workUs: number; baseUs: number; ratio: number } {
  const workUs: number[] = [];
  const baseUs: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const first = round % 2 === 0 ? base : work;
    const second = first === base ? work : base;
    const a = microsecondsPerRecord(first, count);
    const b = microsecondsPerRecord(second, count);
    const [w, f] = first === base ? [b, a] : [a, b];
    workUs.push(w);
    baseUs.push(f);
    ratios.push(w / f);
    if (process.env['BENCH_DEBUG']) log(`    ${label} round ${round}: pipeline ${fixed(w)} us, floor ${fixed(f)} us`);
  }
  return { workUs: median(workUs), baseUs: median(baseUs), ratio: median(ratios) };
}

function pagesOf(activities: readonly unknown[], pageSize: number): Buffer[] {
  const pages: Buffer[] = [];
  for (let i = 0; i < activities.length; i += pageSize) {
    const data = activities.slice(i, i + pageSize);
    const hasNext = i + pageSize < activities.length;
    pages.push(Buffer.from(JSON.stringify({ data, hasNext, total: activities.length })));
  }
  return pages;
}

const CPU_LIMIT = 1.5;

export function benchCpu(log: (line: string) => void): Promise<BenchRow[]> {
  const count = isQuick() ? 5_000 : 20_000;
  const rounds = isQuick() ? 5 : 9;
  const activities = benchActivities(count);
  const rowsOut: BenchRow[] = [];
  const section = `CPU per record (${thousands(count)} records of 4-5 KB, median of ${rounds} interleaved rounds)`;
  for (const { mode, pageSize, lazy } of [
    { mode: 'keyset', pageSize: PAGE_SIZE, lazy: false },
    { mode: 'scan', pageSize: SCAN_PAGE_SIZE, lazy: true },
  ] as const) {
    const pages = pagesOf(activities, pageSize);
    const rows = pages.flatMap((body) => [...parsePage(body).data].map((raw) => mapActivity(raw).record));
    const batches = pipeline(pages);
    log(`  ${mode}: ${rounds} interleaved rounds over ${thousands(count)} records in pages of ${pageSize} ...`);
    for (let i = 0; i < 2; i++) {
      pipeline(pages, lazy);
      floor(pages, rows, batches);
      floor(pages, rows, batches, true);
    }
    const run = () => void pipeline(pages, lazy);
    const vsFloor = interleaved(rounds, count, run, () => floor(pages, rows, batches), mode, log);
    const vsPerRecord = interleaved(rounds, count, run, () => floor(pages, rows, batches, true), mode, log);
    rowsOut.push(
      {
        section,
        figure: `${mode} (pages of ${thousands(pageSize)}): parse + zod + map + serialize + batch + sign, over the floor`,
        measured: `${fixed(vsFloor.workUs)} us / ${fixed(vsFloor.baseUs)} us = ${fixed(vsFloor.ratio)}x`,
        target: `<= ${CPU_LIMIT}x floor (JSON.parse of pages + JSON.stringify of rows + 1 HMAC per batch)`,
        pass: vsFloor.ratio <= CPU_LIMIT,
      },
      {
        section,
        figure: `${mode} (pages of ${thousands(pageSize)}): the same over a floor that parses record by record`,
        measured: `${fixed(vsPerRecord.workUs)} us / ${fixed(vsPerRecord.baseUs)} us = ${fixed(vsPerRecord.ratio)}x`,
        target: 'for information: the page parsed as the connector parses it (indexPage, then JSON.parse per record)',
      },
    );
  }
  const zodUs: number[] = [];
  const keysetPages = pagesOf(activities, PAGE_SIZE);
  for (let round = 0; round < rounds; round++) zodUs.push(zodMicrosecondsPerRecord(keysetPages, count));
  if (checksum === 0) throw new Error('nothing was computed');
  rowsOut.push({
    section,
    figure: 'of which zod validation (McasActivityCoreSchema)',
    measured: `${fixed(median(zodUs))} us`,
    target: 'for information',
  });
  return Promise.resolve(rowsOut);
}
