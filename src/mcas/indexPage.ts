// Finds the records of an MCAS page in its bytes without parsing them: one pass over the body that notes where each
// element of the top-level `data` array starts and ends, and parses the envelope's other members (`hasNext`, `total`,
// `nextQueryFilters`, ...). Each record is then parsed on its own when it is needed, so a page is never held as one
// string and as objects at once (a scan page of 5,000 records is about 22 MB of JSON; BENCHMARKS.md, Memory).
//
// It checks the structure it walks (an object at the top, strings closed, brackets balanced, nothing after the end):
// a cut or non-JSON body fails here, before any record is handed on. What lies inside one record is checked by
// JSON.parse when that record is parsed.
import { PageSyntaxError } from '../errors.js';

export interface PageIndex {
  /** The top-level members other than `data`, parsed. */
  envelope: Record<string, unknown>;
  /** Byte offsets of the `data` elements: element i is body[starts[i], ends[i]). Absent when there is no `data` array. */
  starts: number[] | undefined;
  ends: number[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Indexes a page body; throws PageSyntaxError when its structure is not a JSON object. */
export function indexPage(body: Buffer): PageIndex {
  const envelope: Record<string, unknown> = {};
  const ends: number[] = [];
  let starts: number[] | undefined;
  let i = skipSpace(body, 0);
  if (body[i] !== OPEN_BRACE) throw new PageSyntaxError('expected "{"', i);
  i = skipSpace(body, i + 1);
  if (body[i] === CLOSE_BRACE) i++;
  else {
    for (;;) {
      if (body[i] !== QUOTE) throw new PageSyntaxError('expected a member name', i);
      const keyEnd = skipString(body, i);
      const key = parseJson(body, i, keyEnd, 'a member name') as string;
      i = skipSpace(body, keyEnd);
      if (body[i] !== COLON) throw new PageSyntaxError('expected ":"', i);
      i = skipSpace(body, i + 1);
      if (key === 'data' && body[i] === OPEN_BRACKET) {
        starts = [];
        ends.length = 0;
        i = indexArray(body, i, starts, ends);
      } else {
        const valueEnd = skipValue(body, i);
        envelope[key] = parseJson(body, i, valueEnd, `the value of "${key}"`);
        i = valueEnd;
      }
      i = skipSpace(body, i);
      if (body[i] === COMMA) {
        i = skipSpace(body, i + 1);
        continue;
      }
      if (body[i] === CLOSE_BRACE) {
        i++;
        break;
      }
      throw new PageSyntaxError('expected "," or "}"', i);
    }
  }
  i = skipSpace(body, i);
  if (i !== body.length) throw new PageSyntaxError('unexpected bytes after the page', i);
  return { envelope, starts, ends };
}

/** Notes each element of the array opening at `i`; returns the offset after its "]". */
function indexArray(body: Buffer, open: number, starts: number[], ends: number[]): number {
  let i = skipSpace(body, open + 1);
  if (body[i] === CLOSE_BRACKET) return i + 1;
  for (;;) {
    const end = skipValue(body, i);
    starts.push(i);
    ends.push(end);
    i = skipSpace(body, end);
    if (body[i] === COMMA) i = skipSpace(body, i + 1);
    else if (body[i] === CLOSE_BRACKET) return i + 1;
    else throw new PageSyntaxError('expected "," or "]" in data', i);
  }
}

function parseJson(body: Buffer, start: number, end: number, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8', start, end));
  } catch {
    throw new PageSyntaxError(`${what} is not JSON`, start);
  }
}

function skipSpace(body: Buffer, from: number): number {
  let i = from;
  while (isSpace(body[i])) i++;
  return i;
}

/** The offset after the string opening at `i` (its closing quote is the first one not escaped). */
function skipString(body: Buffer, open: number): number {
  let i = open + 1;
  for (;;) {
    const quote = body.indexOf(QUOTE, i);
    if (quote < 0) throw new PageSyntaxError('unterminated string', open);
    let backslashes = 0;
    while (body[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/**
 * The offset after the value starting at `i`: a string, an object or array (brackets counted, strings skipped whole),
 * or a scalar (up to the next delimiter; JSON.parse checks it later).
 */
function skipValue(body: Buffer, start: number): number {
  const first = body[start];
  if (first === QUOTE) return skipString(body, start);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    let i = start;
    for (;;) {
      const byte = body[i];
      if (byte === undefined || byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || isSpace(byte))
        break;
      i++;
    }
    if (i === start) throw new PageSyntaxError('expected a value', start);
    return i;
  }
  let depth = 0;
  let i = start;
  for (;;) {
    const byte = body[i];
    if (byte === undefined) throw new PageSyntaxError('unexpected end of the page', i);
    if (byte === QUOTE) {
      i = skipString(body, i);
      continue;
    }
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
    else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
}
