// Keyset paging over `created`: ask for created >= cursor (ascending), skip what was already delivered at the
// cursor millisecond, and step with `skip` only while a whole page sits inside one millisecond. No record is lost or
// repeated at a page boundary, and `skip` stays small, so Microsoft's skip + limit <= 5000 rule never bites.
import type { ActivitiesQuery, McasClient } from './McasClient.js';
import { KeysetPosition, type Position, recordKey } from './KeysetPosition.js';

export interface PagedActivity {
  raw: unknown;
  createdMs: number;
  id: string;
}

export interface ActivityPage {
  /** Records not delivered before, in ascending `created` order. */
  activities: PagedActivity[];
  /** Records the API returned, including ones skipped as already delivered. */
  returnedCount: number;
  hasNext: boolean;
  /** The API's (approximate) count of matching records, when it gave one. */
  total: number | undefined;
}

export interface PageWindow {
  /** Where to start: everything at or before this position was delivered. */
  start: Position;
  /** Inclusive upper bound on `created` (epoch ms). */
  endMs: number;
  /** Extra filters ANDed with the `created` window. */
  extraFilters: Readonly<Record<string, unknown>>;
  pageSize: number;
}

/**
 * Yields pages lazily: the next request goes out only when the consumer asks, so a failure downstream stops paging.
 */
export async function* pageActivities(
  client: Pick<McasClient, 'listActivities'>,
  window: PageWindow,
  options: { signal?: AbortSignal; deadlineMs?: number } = {},
): AsyncGenerator<ActivityPage> {
  const position = new KeysetPosition(window.start);
  let skip = 0;
  for (;;) {
    const query: ActivitiesQuery = {
      filters: { ...window.extraFilters, created: { gte: position.cursorMs, lte: window.endMs } },
      sortField: 'created',
      sortDirection: 'asc',
      skip,
      limit: window.pageSize,
    };
    const page = await client.listActivities(query, options);
    const cursorBefore = position.cursorMs;
    const activities: PagedActivity[] = [];
    for (const raw of page.data) {
      const { createdMs, id } = recordKey(raw, position.cursorMs);
      if (position.covers(createdMs, id)) continue;
      position.advance(createdMs, id);
      activities.push({ raw, createdMs, id });
    }
    // A full page that never left the cursor millisecond: the next one must step past it with skip.
    skip = position.cursorMs === cursorBefore ? skip + page.data.length : 0;
    yield { activities, returnedCount: page.data.length, hasNext: page.hasNext, total: page.total };
    if (!page.hasNext || page.data.length === 0) return;
  }
}
