// Zod schemas of the Defender for Cloud Apps (MCAS) activities API wire format, and their types.
// Strict only where the pipeline depends on a field; everything else is optional, lenient and passed through.
import { z } from 'zod';

/** The last millisecond of year 9999: later times have no plain ISO 8601 form (toISOString gives "+275760-…"). */
export const MAX_EPOCH_MS = 253_402_300_799_999;

/** Epoch milliseconds as MCAS sends `created` and `timestamp`: a non-negative integer with a 4-digit-year ISO form. */
export const EpochMsSchema = z.number().int().nonnegative().max(MAX_EPOCH_MS);

/**
 * An optional field that can never fail the record: a value of the wrong type becomes `undefined` and the record
 * still maps. The activity schema is undocumented (DESIGN.md), so a type change in one field must not stop ingestion.
 */
export function lenient<T extends z.ZodType>(schema: T) {
  return schema.optional().catch(undefined);
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A JSON object checked only for being an object. The parsed value is the input itself (no copy, no field dropped),
 * for parts that the mapping keeps whole as a JSON string.
 */
const JsonObjectSchema = z.custom<Record<string, unknown>>(isJsonObject);

/** `entityData` comes as an object keyed "0", "1", … (with nulls) or as an array; kept whole either way. */
const JsonContainerSchema = z.custom<Record<string, unknown> | unknown[]>(
  (value) => Array.isArray(value) || isJsonObject(value),
);

const UserRefSchema = z.looseObject({ userName: lenient(z.string()) });

/**
 * One activity record as returned in `data` of POST /api/v1/activities/. There is no published schema; the fields
 * below are those seen in public samples (DESIGN.md, test/fixtures/activities/README.md). Unknown fields pass through.
 * Compiled (`z.compile`): every record of every page goes through it, and the generated parser takes about half the
 * time of zod's interpreter (BENCHMARKS.md); results and issues are the same, since anything the generated code does
 * not accept is handed to the interpreter.
 */
export const McasActivitySchema = z.compile(z.looseObject({
  /** Several formats in the wild: 24-hex, 64-hex, "<tenant>_<app>_<guid>". */
  _id: z.string().min(1),
  /** When MCAS saved the activity (epoch ms); the checkpoint follows this. */
  created: EpochMsSchema,
  /** When the activity happened (epoch ms). */
  timestamp: EpochMsSchema,

  appId: lenient(z.union([z.number(), z.string()])),
  appName: lenient(z.string()),
  /** The app whose connector reported the activity, e.g. 11161 (Office 365) for an Exchange Online logon. */
  srcAppId: lenient(z.union([z.number(), z.string()])),
  eventType: lenient(z.number()),
  /** `EVENT_CATEGORY_*`, e.g. EVENT_CATEGORY_LOGIN, EVENT_CATEGORY_FAILED_LOGIN. */
  eventTypeName: lenient(z.string()),
  /** The app-specific event, e.g. EVENT_AAD_LOGIN_FAILED, EVENT_O365_ONEDRIVE_GENERIC. */
  eventTypeValue: lenient(z.string()),
  /** e.g. ENUM_ACTIVITY_GENERIC_TYPE_FAILED_LOGIN. */
  genericEventType: lenient(z.string()),
  actionType: lenient(z.string()),
  description: lenient(z.string()),
  /** e.g. EVENT_DESCRIPTION_FAILED_LOGIN. */
  description_id: lenient(z.string()),
  /** The template parameters of `description` (strings). */
  description_metadata: lenient(JsonObjectSchema),
  /** e.g. "INFO". */
  severity: lenient(z.string()),

  /** Absent (or without userName) on failed logons; see failedUserData. */
  user: lenient(UserRefSchema),
  failedUserData: lenient(UserRefSchema),
  /** The resolved account; its ids and roles are strings ("objType": "23"). */
  resolvedActor: lenient(z.looseObject({ name: lenient(z.string()) })),
  /** `clientIP` is the only IP field (there is no top-level ipAddress); `userAgent` here is the raw string. */
  device: lenient(z.looseObject({ clientIP: lenient(z.string()), userAgent: lenient(z.string()) })),
  /** Geo data of the client IP: countryCode, city, region, latitude, longitude, organizationSearchable, … */
  location: lenient(JsonObjectSchema),
  /** The parsed user agent (browser, os, deviceType, …); a plain string in some records. */
  userAgent: lenient(z.union([z.string(), JsonObjectSchema])),

  mainInfo: lenient(
    z.looseObject({
      /** The objects the activity involved: apps, files, sites, accounts, parameters ({ name, id, objType, role }). */
      eventObjects: lenient(z.array(z.unknown())),
      /** Present on logons: whether it succeeded and the failure message. */
      activityResult: lenient(z.looseObject({ isSuccess: lenient(z.boolean()), message: lenient(z.string()) })),
      /** The source app's own operation name, e.g. FilePreviewed, OAuth2:Token. */
      rawOperationName: lenient(z.string()),
      prettyOperationName: lenient(z.string()),
      /** e.g. "basic", "failedLogin". */
      type: lenient(z.string()),
    }),
  ),
  entityData: lenient(JsonContainerSchema),
  /** The source app's raw record. Its keys can differ only by case (`Level` and `level`). */
  rawDataJson: lenient(JsonObjectSchema),
}));
export type McasActivity = z.infer<typeof McasActivitySchema>;

/**
 * One response page. Records stay `unknown` here: each is checked on its own with McasActivitySchema, so one bad
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
export type McasPage = z.infer<typeof McasPageSchema>;
