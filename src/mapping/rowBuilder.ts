// Pieces shared by every MCAS record -> Log Analytics row mapping: validate-or-flag, field fitting with the
// TruncatedFields bookkeeping, JSON columns, ISO times, and the flagged-row columns. Pure; no I/O.
import type { z } from 'zod';

import { MAX_EPOCH_MS } from '../mcas/schema.js';
import { isJsonObject } from '../mcas/unchecked.js';
import { MAX_FIELD_BYTES, MAX_SERIALIZED_FIELD_BYTES, truncateJsonEscaped, truncateUtf8 } from './truncate.js';

/** The outcome of mapping one raw record. */
export interface MappedRecord<R> {
  record: R;
  /** True when the input failed the core schema and `record` is a flagged minimal row. */
  flagged: boolean;
  /** The record `_id` when the input has a non-empty string one (untruncated, for logs and checkpoints). */
  id: string | undefined;
  /** Flagged rows only: what was wrong, as "path: message". */
  issues?: string[];
}

/**
 * Validates `raw` with `schema` and maps it with `toRow` (given zod's output and the raw record it came from); on a
 * schema failure (or, defensively, any throw) returns `toFlagged(raw, issues)` instead. Never throws, so one poison
 * record can neither be dropped nor stall a run.
 */
export function mapOrFlag<T extends { _id: string }, R>(
  raw: unknown,
  schema: z.ZodType<T>,
  toRow: (parsed: T, raw: unknown) => R,
  toFlagged: (raw: unknown, issues: readonly string[]) => R,
): MappedRecord<R> {
  let issues: string[];
  try {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return { record: toRow(parsed.data, raw), flagged: false, id: parsed.data._id };
    issues = parsed.error.issues.map(describeIssue);
  } catch (error) {
    // Unreachable for JSON input; here so that one unforeseen record cannot stall every later run.
    issues = [`mapping failed: ${error instanceof Error ? error.message : safeString(error)}`];
  }
  return { record: toFlagged(raw, issues), flagged: true, id: idOf(raw), issues };
}

/**
 * Fits values into columns of one row: strings are cut to MAX_FIELD_BYTES (UTF-8) and every cut column is
 * remembered, in the order fitted, for the row's `TruncatedFields`.
 */
export interface FieldFitter<C extends string> {
  /** `value` cut to MAX_FIELD_BYTES; undefined stays undefined. */
  text(value: string | undefined, column: C): string | undefined;
  /** The JSON text of `value` (serialized once), cut like any string; undefined when there is nothing to keep. */
  json(value: unknown, column: C): string | undefined;
  /** The cut columns, comma-separated, or undefined when nothing was cut. */
  truncatedFields(): string | undefined;
}

export function createFieldFitter<C extends string>(): FieldFitter<C> {
  const cut: C[] = [];
  const text = (value: string | undefined, column: C): string | undefined => {
    if (value === undefined) return undefined;
    let fitted = truncateUtf8(value, MAX_FIELD_BYTES);
    // Escaping can make a value six times longer (control characters); cap that too, so a row always fits a post.
    if (fitted.length * 6 > MAX_SERIALIZED_FIELD_BYTES)
      fitted = truncateJsonEscaped(fitted, MAX_SERIALIZED_FIELD_BYTES);
    if (fitted !== value) cut.push(column);
    return fitted;
  };
  return {
    text,
    json: (value, column) => {
      if (value === undefined) return undefined;
      const json = safeJson(value);
      if (json !== undefined) return text(json, column);
      cut.push(column); // too deeply nested to serialize: say so instead of dropping the column silently
      return '';
    },
    truncatedFields: () => (cut.length > 0 ? cut.join(',') : undefined),
  };
}

/** The columns every flagged row ends with. */
export interface FlaggedColumns {
  IsFlagged: true;
  ValidationIssues: string | undefined;
  RawRecordJson: string | undefined;
}

/** The issues and the whole raw record as (truncated) JSON; `undefined` input is kept as the text "undefined". */
export function flaggedColumns(
  raw: unknown,
  issues: readonly string[],
  fit: FieldFitter<'ValidationIssues' | 'RawRecordJson'>,
): FlaggedColumns {
  return {
    IsFlagged: true,
    ValidationIssues: fit.text(issues.join('; '), 'ValidationIssues'),
    RawRecordJson: fit.text(safeJson(raw) ?? safeString(raw), 'RawRecordJson'),
  };
}

/** The non-empty string `_id` of a raw record, if it has one. */
export function idOf(raw: unknown): string | undefined {
  return isJsonObject(raw) ? nonEmpty(stringField(raw, '_id')) : undefined;
}

/** ISO 8601 of an epoch-ms number or digit string, when it is a plausible time; undefined otherwise. */
export function looseIsoTime(value: unknown): string | undefined {
  const ms = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0 || ms > MAX_EPOCH_MS) return undefined;
  return isoTime(ms);
}

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));
/** The day of the last isoTime call, and its "YYYY-MM-DDT". */
let cachedDay = Number.NaN;
let cachedDayPrefix = '';

/**
 * `new Date(epochMs).toISOString()` of a time that EpochMsSchema accepts (an integer from 0 to MAX_EPOCH_MS), in a
 * fifth of the time: toISOString is a slow builtin, and every row needs two. The date part comes from toISOString
 * once per day (the records of a page are close in time); the time of day is arithmetic.
 */
export function isoTime(epochMs: number): string {
  const day = Math.floor(epochMs / DAY_MS);
  if (day !== cachedDay) {
    cachedDayPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    cachedDay = day;
  }
  let rest = epochMs - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1_000);
  const millis = rest - seconds * 1_000;
  return `${cachedDayPrefix}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis]}Z`;
}

/** `object[key]` when it is a string. */
export function stringField(object: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === 'string' ? value : undefined;
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined; // BigInt or a cycle: impossible in parsed JSON
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[unprintable value]';
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  return `${path}: ${issue.message}`;
}
