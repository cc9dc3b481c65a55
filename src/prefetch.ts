// Overlaps fetching the next item of an async iterator with the consumer's work on the current one: at most one
// item is fetched ahead, so memory stays at two pages whatever the backlog.

import { setImmediate as setImmediatePromise } from 'node:timers/promises';

/**
 * Yields what `source` yields, asking it for the next item as soon as the current one is handed out, except after an
 * item for which `holdAfter` holds: then only when the consumer asks (the consumer may stop there, and the request
 * would be wasted). When the consumer stops early, the request in flight is awaited (its error ignored) and the source
 * is closed.
 */
export async function* prefetchOne<T>(
  source: AsyncIterator<T>,
  holdAfter: (item: T) => boolean = () => false,
): AsyncGenerator<T> {
  let next: Promise<IteratorResult<T>> | undefined;
  try {
    for (;;) {
      const result = await (next ?? source.next());
      next = undefined;
      if (result.done) return;
      if (!holdAfter(result.value)) {
        next = source.next();
        // The consumer may stop before it awaits this; a rejection must not go unhandled meanwhile.
        next.catch(() => undefined);
        // Let the request go out before the consumer starts: undici writes to an idle keep-alive socket only after the
        // event loop's check phase, and the consumer's work on a page is all microtasks, so without these two turns the
        // next request would leave only once this page is consumed, and fetching ahead would overlap nothing.
        await setImmediatePromise();
        await setImmediatePromise();
      }
      yield result.value;
    }
  } finally {
    await next?.catch(() => undefined);
    await source.return?.(undefined);
  }
}
