// A model of how Sentinel runs a scheduled rule over rows that reach the workspace late, for the rule timeline tests.
// Each run at time T queries the rows whose TimeGenerated (= the activity time, as both sinks set it) lies within
// queryPeriod before T; the rules themselves take as new the rows ingested in (T - settle - frequency, T - settle]
// and look only at rows ingested by T - settle, so that a row not yet queryable at one run is new at the next.
// Each rule's decision logic is written out in JavaScript next to its timelines (ruleTimelines.test.ts), with the
// constants read from the rule's own query, so a change of threshold or window in the YAML moves the model too.
// The model is not the KQL: kql.test.ts checks the queries themselves against the schema.

/** Minutes, relative to the start of a timeline. */
export type Minutes = number;

export interface Row {
  /** Activity time: also TimeGenerated. */
  at: Minutes;
  /** When the row reached the workspace (ingestion_time()). */
  ingested: Minutes;
  [field: string]: unknown;
}

export interface RunWindow {
  /** The run's time. */
  runAt: Minutes;
  /** Rows ingested after this are new to the run... */
  windowStart: Minutes;
  /** ...up to this; later rows belong to the next run. */
  windowEnd: Minutes;
}

export interface Alert {
  runAt: Minutes;
  [field: string]: unknown;
}

export interface Schedule {
  frequency: Minutes;
  period: Minutes;
  settle: Minutes;
}

export type RuleModel = (rows: readonly Row[], window: RunWindow) => Record<string, unknown>[];

/** Every alert the rule raises when it runs every `frequency` from 0 up to `until`. */
export function runSchedule(schedule: Schedule, rows: readonly Row[], model: RuleModel, until: Minutes): Alert[] {
  const alerts: Alert[] = [];
  for (let runAt = schedule.frequency; runAt <= until; runAt += schedule.frequency) {
    const windowEnd = runAt - schedule.settle;
    const window = { runAt, windowStart: windowEnd - schedule.frequency, windowEnd };
    // Sentinel's own time filter (TimeGenerated within queryPeriod), then the rule's bound on ingestion.
    const visible = rows.filter(
      (row) => row.at >= runAt - schedule.period && row.at <= runAt && row.ingested <= windowEnd,
    );
    for (const alert of model(visible, window)) alerts.push({ runAt, ...alert });
  }
  return alerts;
}

const UNIT_MINUTES: Record<string, number> = { m: 1, h: 60, d: 1440 };

/** `1h` -> 60, `14d` -> 20160, `10m` -> 10; undefined for anything else. */
export function durationMinutes(value: unknown): Minutes | undefined {
  const match = /^(\d+)([mhd])$/.exec(String(value));
  return match === null ? undefined : Number(match[1]) * (UNIT_MINUTES[match[2] ?? ''] ?? Number.NaN);
}

/** The `let name = <duration or integer>;` constants at the top of a query, durations in minutes. */
export function queryConstants(query: string): Map<string, number> {
  const constants = new Map<string, number>();
  for (const match of query.matchAll(/^\s*let (\w+) = (\d+[mhd]?);/gm)) {
    const [, name = '', value = ''] = match;
    constants.set(name, durationMinutes(value) ?? Number(value));
  }
  return constants;
}

/** The lateness a rule's description promises to cover: "within N hours of happening", in minutes. */
export function statedLatenessMinutes(description: string): Minutes | undefined {
  const match = /within (\d+) hours of\s+happening/.exec(description);
  return match === null ? undefined : Number(match[1]) * 60;
}
