// A position in the `created`-ascending stream of activities: a cursor (epoch ms) and the ids already delivered at
// exactly that millisecond. Pure; shared by the pager (what to ask for next) and the run (what to checkpoint).
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';

export interface Position {
  cursorMs: number;
  idsAtCursor: string[];
}

/**
 * Where the next run may start once every record handed over before it was accepted. Computed only when saved:
 * keyset paging marks every record, and only the few that end a batch are ever saved.
 */
export type ResumeMark = () => Position;

export class KeysetPosition {
  #cursorMs: number;
  #ids: Set<string>;
  /** The same ids in the order they were added, append-only, so that a mark can take a prefix of them later. */
  #idList: string[];

  constructor(start: Position) {
    this.#cursorMs = start.cursorMs;
    this.#ids = new Set(start.idsAtCursor);
    this.#idList = [...this.#ids];
  }

  get cursorMs(): number {
    return this.#cursorMs;
  }

  /** True when the record at `createdMs` with `id` is at or before this position (already delivered). */
  covers(createdMs: number, id: string): boolean {
    return createdMs < this.#cursorMs || (createdMs === this.#cursorMs && this.#ids.has(id));
  }

  /** Moves past one record. Records must come in ascending `created` order; an older one leaves the cursor alone. */
  advance(createdMs: number, id: string): void {
    if (createdMs > this.#cursorMs) {
      this.#cursorMs = createdMs;
      this.#ids = new Set([id]);
      this.#idList = [id];
    } else if (createdMs === this.#cursorMs && !this.#ids.has(id)) {
      this.#ids.add(id);
      this.#idList.push(id);
    }
  }

  /** This position as a mark: cheap to take for every record, since the id list is copied only when it is saved. */
  mark(): ResumeMark {
    const cursorMs = this.#cursorMs;
    const ids = this.#idList;
    const count = ids.length;
    return () => ({ cursorMs, idsAtCursor: ids.slice(0, count) });
  }

  snapshot(): Position {
    return this.mark()();
  }
}

/**
 * The paging key of a raw record, read leniently: the time field (`created`, or `timestamp` for alerts) as a number
 * (or numeric string) and `_id` as a string.
 * A record without a usable `created` is placed at `fallbackCreatedMs` (the previous record's, since pages are sorted);
 * one without an `_id` gets a content hash, so it is still recognised when a page is fetched again.
 */
export function recordKey(
  raw: unknown,
  fallbackCreatedMs: number,
  timeKey: 'created' | 'timestamp' = 'created',
  maxCreatedMs = Number.MAX_SAFE_INTEGER,
): { createdMs: number; id: string } {
  const record = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const created = record[timeKey];
  const createdNumber = typeof created === 'string' && /^\d+$/.test(created) ? Number(created) : created;
  const createdMs =
    typeof createdNumber === 'number' &&
    Number.isSafeInteger(createdNumber) &&
    createdNumber >= fallbackCreatedMs &&
    createdNumber <= maxCreatedMs
      ? createdNumber
      : fallbackCreatedMs;
  const rawId = record['_id'];
  const id =
    typeof rawId === 'string' && rawId !== ''
      ? rawId
      : `sha256:${createHash('sha256').update(fingerprint(raw)).digest('hex').slice(0, 32)}`;
  return { createdMs, id };
}

/** Stable text of a parsed record, to hash. JSON.stringify overflows the stack past a few thousand levels; inspect does not. */
function fingerprint(raw: unknown): string {
  try {
    // JSON.stringify gives undefined for undefined itself, which its type does not say.
    const stringify: (value: unknown) => string | undefined = JSON.stringify;
    return stringify(raw) ?? 'undefined';
  } catch {
    return inspect(raw, {
      depth: Infinity,
      maxArrayLength: Infinity,
      maxStringLength: Infinity,
      breakLength: Infinity,
    });
  }
}
