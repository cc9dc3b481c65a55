// Cuts string values to the Log Analytics per-field limit, counted in UTF-8 bytes, never inside a character.
// Pure; no I/O.

/**
 * Largest value, in UTF-8 bytes, that one field may hold. The Data Collector API documents "32 KB" per field value
 * and truncates longer ones itself; it does not say whether that means 32,000 or 32,768 bytes, so we stay under
 * both. The Logs Ingestion API allows 64 KB, so one limit serves both sinks.
 */
export const MAX_FIELD_BYTES = 32_000;

/**
 * UTF-8 length of `value` in bytes, as Buffer.byteLength counts it (a lone surrogate counts 3, the size of the
 * U+FFFD it would be encoded as).
 */
export function utf8ByteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** True when `value` takes at most `maxBytes` bytes in UTF-8. Cheap for the common short value. */
export function fitsUtf8(value: string, maxBytes: number): boolean {
  // Each UTF-16 code unit encodes to at most 3 UTF-8 bytes (a surrogate pair: 2 units, 4 bytes), so a string
  // with length * 3 <= maxBytes fits without counting.
  return value.length * 3 <= maxBytes || utf8ByteLength(value) <= maxBytes;
}

/**
 * The longest prefix of `value` that takes at most `maxBytes` bytes in UTF-8, ending on a code point boundary:
 * a surrogate pair or multi-byte character is kept whole or dropped whole. Returns `value` itself when it fits.
 */
export function truncateUtf8(value: string, maxBytes: number): string {
  if (fitsUtf8(value, maxBytes)) return value;
  let bytes = 0;
  let end = 0;
  while (end < value.length) {
    const unit = value.charCodeAt(end);
    let width = 1;
    let size: number;
    if (unit < 0x80) size = 1;
    else if (unit < 0x800) size = 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(value.charCodeAt(end + 1))) {
      size = 4;
      width = 2;
    } else size = 3; // other BMP characters, and lone surrogates (encoded as U+FFFD)
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += width;
  }
  return value.slice(0, end);
}

/** Largest size of one value inside the serialized row, escapes included: ~25 text columns stay under 1 MB. */
export const MAX_SERIALIZED_FIELD_BYTES = 36_000;

/**
 * The longest prefix of `value` whose JSON string form (as JSON.stringify writes it, quotes excluded) takes at most
 * `maxBytes`: control characters take 6 bytes (\u0001) or 2 (\n), `"` and `\\` take 2, lone surrogates 6.
 */
export function truncateJsonEscaped(value: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  while (end < value.length) {
    const unit = value.charCodeAt(end);
    let width = 1;
    let size: number;
    if (
      unit === 0x22 ||
      unit === 0x5c ||
      unit === 0x08 ||
      unit === 0x09 ||
      unit === 0x0a ||
      unit === 0x0c ||
      unit === 0x0d
    )
      size = 2;
    else if (unit < 0x20) size = 6;
    else if (unit < 0x80) size = 1;
    else if (unit < 0x800) size = 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(value.charCodeAt(end + 1))) {
      size = 4;
      width = 2;
    } else if (unit >= 0xd800 && unit <= 0xdfff) size = 6;
    else size = 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += width;
  }
  return value.slice(0, end);
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
