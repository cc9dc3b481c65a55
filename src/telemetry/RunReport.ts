// What a run reports about itself, once, at its end: to the log as one structured line, beside the checkpoint (so
// `cli status` can show the last run), and to Application Insights as a custom event and metrics.
import { z } from 'zod';

export interface RunReport {
  /** The stream: activities, alerts, or a backfill's name. */
  stream: string;
  outcome: 'succeeded' | 'failed';
  startedAt: string;
  durationMs: number;
  fetched: number;
  sent: number;
  flagged: number;
  batches: number;
  pages: number;
  /** Retried requests, both services. */
  retries: number;
  /** Throttled answers from MCAS, and the time spent waiting for the request pacer or after throttling. */
  throttled: number;
  throttleWaitMs: number;
  /** Minutes between the end of the run and the checkpoint's cursor: how far behind the stream is. */
  lagMinutes: number;
  moreToDo: boolean;
  /** ISO cursor after the run. */
  checkpoint: string;
  /** On failure: the error's name and message (never a secret: our messages carry none). */
  error?: string | undefined;
  /** Multi-tenant mode: the tenant's registry key. */
  tenant?: string | undefined;
}

/** The stored form, checked when read back; a report that does not parse is treated as absent (it is only a report). */
export const RunReportSchema = z.object({
  stream: z.string(),
  outcome: z.enum(['succeeded', 'failed']),
  startedAt: z.string(),
  durationMs: z.number(),
  fetched: z.number(),
  sent: z.number(),
  flagged: z.number(),
  batches: z.number(),
  pages: z.number(),
  retries: z.number(),
  throttled: z.number(),
  throttleWaitMs: z.number(),
  lagMinutes: z.number(),
  moreToDo: z.boolean(),
  checkpoint: z.string(),
  error: z.string().optional(),
  tenant: z.string().optional(),
}) satisfies z.ZodType<RunReport>;

/** Parses a stored report; undefined when it is not one. */
export function parseRunReport(text: string): RunReport | undefined {
  try {
    const parsed = RunReportSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Where run reports go besides the log. Implementations never throw: telemetry must not fail a run. */
export interface Telemetry {
  trackRun(report: RunReport): Promise<void>;
}

export const NO_TELEMETRY: Telemetry = { trackRun: () => Promise.resolve() };
