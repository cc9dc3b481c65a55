// Typed, lenient reads of wire objects whose fields are documented but not checked. A value of another type reads as
// undefined, just as zod's `lenient(...)` turns it into undefined, but nothing is copied to read it: validating a whole
// record with zod builds a fresh copy of it and of its nested objects, which costs more than the rest of the mapping
// (BENCHMARKS.md).

declare const documentedBy: unique symbol;

/**
 * A wire object whose fields `T` documents but nobody has checked: each may hold any JSON value, or be absent, until
 * a reader below reads it as the type `T` gives it. `T` also rides along in a property that exists only for the type
 * checker, so that a reader can infer it and accept only the keys that `T` documents with the reader's type.
 */
export type Unchecked<T> = { readonly [K in keyof T]?: unknown } & { readonly [documentedBy]?: T };

/** The keys of `T` whose documented type (absence aside) is `V`. */
type KeysOf<T, V> = { [K in keyof T]-?: NonNullable<T[K]> extends V ? K : never }[keyof T];

/** The keys of `T` documented as objects other than arrays. */
type ObjectKeys<T> = Exclude<KeysOf<T, object>, KeysOf<T, readonly unknown[]>>;

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `object[key]` when it is a string. */
export function readString<T>(object: Unchecked<T> | undefined, key: KeysOf<T, string>): string | undefined {
  const value = object?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** `object[key]` when it is a boolean. */
export function readBoolean<T>(object: Unchecked<T> | undefined, key: KeysOf<T, boolean>): boolean | undefined {
  const value = object?.[key];
  return typeof value === 'boolean' ? value : undefined;
}

/** `object[key]` when it is an array; its items stay unchecked. */
export function readArray<T>(
  object: Unchecked<T> | undefined,
  key: KeysOf<T, readonly unknown[]>,
): unknown[] | undefined {
  const value = object?.[key];
  return Array.isArray(value) ? value : undefined;
}

/** `object[key]` when it is an object (not null, not an array), with its own fields still unchecked. */
export function readObject<T, K extends ObjectKeys<T>>(
  object: Unchecked<T> | undefined,
  key: K,
): Unchecked<NonNullable<T[K]>> | undefined {
  const value = object?.[key];
  return isJsonObject(value) ? value : undefined;
}
