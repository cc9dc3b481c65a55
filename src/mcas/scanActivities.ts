// Scan mode: up to 5,000 activities a request (50x fewer requests than normal listing), following the server's
// `nextQueryFilters` inside one closed `created` window. The order inside a scan is the server's affair, so a scan
// gives no resumable position until its window is complete; the run checkpoints per window, not per page.
import type { ActivityPage, PagedActivity, PageWindow } from './pageActivities.js';
import type { ActivitiesQuery, McasClient } from './McasClient.js';
import { recordKey } from './KeysetPosition.js';

/**
 * Yields the pages of one scan over `window`. Activities at the starting cursor whose ids were already delivered are
 * left out; the server itself avoids repeats across the pages of a scan.
 */
export async function* scanActivities(
  client: Pick<McasClient, 'listActivities'>,
  window: PageWindow,
  options: { signal?: AbortSignal; deadlineMs?: number } = {},
): AsyncGenerator<ActivityPage> {
  const delivered = new Set(window.start.idsAtCursor);
  let filters: Record<string, unknown> = { ...window.extraFilters, created: { gte: window.start.cursorMs, lte: window.endMs } };
  for (;;) {
    const query: ActivitiesQuery = { filters, sortField: 'created', sortDirection: 'asc', skip: 0, limit: window.pageSize, isScan: true };
    const page = await client.listActivities(query, options);
    const activities: PagedActivity[] = [];
    for (const raw of page.data) {
      const { createdMs, id } = recordKey(raw, window.start.cursorMs);
      if (createdMs === window.start.cursorMs && delivered.has(id)) continue;
      activities.push({ raw, createdMs, id });
    }
    yield { activities, returnedCount: page.data.length, hasNext: page.hasNext, total: page.total };
    if (!page.hasNext || page.data.length === 0) return;
    if (!page.nextQueryFilters) {
      throw new Error('MCAS scan page said hasNext but gave no nextQueryFilters; cannot continue the scan safely.');
    }
    filters = page.nextQueryFilters;
  }
}
