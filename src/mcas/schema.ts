// Zod schemas of the Defender for Cloud Apps (MCAS) activities API wire format, and their types.
// Strict only where the pipeline depends on a field; everything else is optional, read leniently by the mapping.
import { z } from 'zod';

import type { Unchecked } from './unchecked.js';

/** The last millisecond of year 9999: later times have no plain ISO 8601 form (toISOString gives "+275760-…"). */
export const MAX_EPOCH_MS = 253_402_300_799_999;

/** Epoch milliseconds as MCAS sends `created` and `timestamp`: a non-negative integer with a 4-digit-year ISO form. */
export const EpochMsSchema = z.number().int().nonnegative().max(MAX_EPOCH_MS);

/**
 * An optional field that can never fail the record: a value of the wrong type becomes `undefined` and the record
 * still maps. The MCAS record formats are barely documented (DESIGN.md), so a type change in one field must not stop
 * ingestion. (The activity mapping reads its optional fields the same way without zod: `unchecked.ts`.)
 */
export function lenient<T extends z.ZodType>(schema: T) {
  return schema.optional().catch(undefined);
}

/**
 * The fields the pipeline depends on, and all that zod checks of an activity: a plain (stripping) object, so zod's
 * output is these three fields and the record is not copied. A schema of the whole record made zod copy every record
 * and its nested objects, which cost more than the rest of the mapping (BENCHMARKS.md). Every other field is read from
 * the raw record by the mapping, as the type McasActivity documents or not at all (`unchecked.ts`). Compiled
 * (`z.compile`): every record of every page goes through it, and the generated parser takes a tenth of the time of
 * zod's interpreter here; results and issues are the same, since anything the generated code does not accept is
 * handed to the interpreter.
 */
export const McasActivityCoreSchema = z.compile(
  z.object({
    /** Several formats in the wild: 24-hex, 64-hex, "<tenant>_<app>_<guid>". */
    _id: z.string().min(1),
    /** When MCAS saved the activity (epoch ms); the checkpoint follows this. */
    created: EpochMsSchema,
    /** When the activity happened (epoch ms). */
    timestamp: EpochMsSchema,
  }),
);
export type McasActivityCore = z.infer<typeof McasActivityCoreSchema>;

/**
 * One activity record as returned in `data` of POST /api/v1/activities/. There is no published schema; the fields
 * below are those seen in public samples (DESIGN.md, test/fixtures/activities/README.md), with the types they come
 * with. Only the core is checked (McasActivityCoreSchema); the mapping reads every other field as the type given
 * here or not at all, so a type change in one field never stops ingestion. Fields not listed here reach no column.
 */
export interface McasActivity extends McasActivityCore {
  appId?: number | string;
  appName?: string;
  /** The app whose connector reported the activity, e.g. 11161 (Office 365) for an Exchange Online logon. */
  srcAppId?: number | string;
  eventType?: number;
  /** `EVENT_CATEGORY_*`, e.g. EVENT_CATEGORY_LOGIN, EVENT_CATEGORY_FAILED_LOGIN. */
  eventTypeName?: string;
  /** The app-specific event, e.g. EVENT_AAD_LOGIN_FAILED, EVENT_O365_ONEDRIVE_GENERIC. */
  eventTypeValue?: string;
  /** e.g. ENUM_ACTIVITY_GENERIC_TYPE_FAILED_LOGIN. */
  genericEventType?: string;
  actionType?: string;
  description?: string;
  /** e.g. EVENT_DESCRIPTION_FAILED_LOGIN. */
  description_id?: string;
  /** The template parameters of `description` (strings). */
  description_metadata?: Record<string, unknown>;
  /** e.g. "INFO". */
  severity?: string;

  /** Absent (or without userName) on failed logons; see failedUserData. */
  user?: McasUserRef;
  failedUserData?: McasUserRef;
  /** The resolved account; its ids and roles are strings ("objType": "23"). */
  resolvedActor?: { name?: string };
  /** `clientIP` is the only IP field (there is no top-level ipAddress); `userAgent` here is the raw string. */
  device?: { clientIP?: string; userAgent?: string };
  /** Geo data of the client IP: countryCode, city, region, latitude, longitude, organizationSearchable, … */
  location?: Record<string, unknown>;
  /** The parsed user agent (browser, os, deviceType, …); a plain string in some records. */
  userAgent?: string | Record<string, unknown>;

  mainInfo?: McasMainInfo;
  /** Comes as an object keyed "0", "1", … (with nulls) or as an array; kept whole either way. */
  entityData?: Record<string, unknown> | unknown[];
  /** The source app's raw record. Its keys can differ only by case (`Level` and `level`). */
  rawDataJson?: Record<string, unknown>;
}

export interface McasUserRef {
  userName?: string;
}

export interface McasMainInfo {
  /** The objects the activity involved: apps, files, sites, accounts, parameters ({ name, id, objType, role }). */
  eventObjects?: unknown[];
  /** Present on logons: whether it succeeded and the failure message. */
  activityResult?: { isSuccess?: boolean; message?: string };
  /** The source app's own operation name, e.g. FilePreviewed, OAuth2:Token. */
  rawOperationName?: string;
  prettyOperationName?: string;
  /** e.g. "basic", "failedLogin". */
  type?: string;
}

/**
 * A raw activity that passed McasActivityCoreSchema: `_id`, `created` and `timestamp` as checked, every other field
 * as MCAS sent it, to be read with the readers of `unchecked.ts`.
 */
export type CheckedActivity = McasActivityCore & Unchecked<McasActivity>;

/**
 * One response page. Records stay `unknown` here: each is checked on its own with McasActivityCoreSchema, so one bad
 * record is flagged instead of failing the page.
 */
export const McasPageSchema = z.looseObject({
  data: z.array(z.unknown()),
  hasNext: z.boolean(),
  /** Approximate; informational only, so a surprising type is ignored. */
  total: lenient(z.number()),
  /** Scan mode: the filters to send with the next request. */
  nextQueryFilters: z.record(z.string(), z.unknown()).optional(),
});
/** The records of a page: an array, or records parsed one by one from the page's bytes as they are iterated. */
export interface PageRecords extends Iterable<unknown> {
  readonly length: number;
  /** Frees the page's bytes without reading the records (iterating to the end frees them too). */
  release?(): void;
}
/** A page as the client hands it on: McasPageSchema's fields, with `data` as PageRecords. */
export interface McasPage {
  data: PageRecords;
  hasNext: boolean;
  total?: number | undefined;
  nextQueryFilters?: Record<string, unknown> | undefined;
}
