// Counts in messages: "1 batch", "2 batches".

/** `count` followed by the singular or plural noun, e.g. plural(1, 'batch', 'batches') is "1 batch". */
export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}
