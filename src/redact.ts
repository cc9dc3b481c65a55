// Keeps secrets out of text that a server may have echoed (error bodies, excerpts), and out of log lines, errors and
// run reports: the MCAS token and the workspace key in every form a server can send them back in. Pure.

/** A run of this many characters of a secret (or of one of its encoded forms) is taken for a leak and replaced. */
export const MIN_FRAGMENT_CHARS = 12;
/** Secrets shorter than this are not looked for: they would match ordinary words. */
const MIN_SECRET_CHARS = 8;
const REDACTED = '[redacted]';

/**
 * The forms a server can echo a secret in: as sent, base64 and base64url of it (as in a Basic or a decoded-then-re-
 * encoded header), URL-encoded (a query string or form body), and, for a base64 key, its bytes as base64url.
 */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  const bytes = Buffer.from(secret, 'utf8');
  forms.add(bytes.toString('base64'));
  forms.add(bytes.toString('base64url'));
  forms.add(encodeURIComponent(secret));
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) forms.add(Buffer.from(secret, 'base64').toString('base64url'));
  return [...forms].filter((form) => form.length >= MIN_SECRET_CHARS);
}

/**
 * Replaces every secret, each of its forms, and every run of at least MIN_FRAGMENT_CHARS characters of any of them, by
 * "[redacted]". Built once per set of secrets; `redact` is linear in the text.
 */
export class Redactor {
  readonly #fragments = new Set<string>();
  readonly #short: string[] = [];

  constructor(secrets: readonly (string | undefined)[]) {
    for (const secret of secrets) {
      if (secret === undefined || secret.length < MIN_SECRET_CHARS) continue;
      for (const form of secretForms(secret)) {
        if (form.length < MIN_FRAGMENT_CHARS) this.#short.push(form);
        else
          for (let i = 0; i + MIN_FRAGMENT_CHARS <= form.length; i++)
            this.#fragments.add(form.slice(i, i + MIN_FRAGMENT_CHARS));
      }
    }
  }

  /** True when there is nothing to look for. */
  get isEmpty(): boolean {
    return this.#fragments.size === 0 && this.#short.length === 0;
  }

  redact(text: string): string {
    if (this.isEmpty || text.length < MIN_SECRET_CHARS) return text;
    let out = text;
    for (const form of this.#short) out = out.split(form).join(REDACTED);
    if (this.#fragments.size === 0 || out.length < MIN_FRAGMENT_CHARS) return out;
    // Mark every character inside a fragment of a secret, then replace each marked run once.
    const marked = new Uint8Array(out.length);
    let any = false;
    for (let i = 0; i + MIN_FRAGMENT_CHARS <= out.length; i++) {
      if (this.#fragments.has(out.slice(i, i + MIN_FRAGMENT_CHARS))) {
        marked.fill(1, i, i + MIN_FRAGMENT_CHARS);
        any = true;
      }
    }
    if (!any) return out;
    let result = '';
    for (let i = 0; i < out.length;) {
      if (marked[i] === 1) {
        while (marked[i] === 1) i++;
        result += REDACTED;
      } else {
        const start = i;
        while (i < out.length && marked[i] !== 1) i++;
        result += out.slice(start, i);
      }
    }
    return result;
  }

  /**
   * Redacts an error's message and stack, and its causes', in place: the last line of defence for an error that is
   * about to be thrown to the host or stored in a run report.
   */
  redactError(error: Error): Error {
    if (this.isEmpty) return error;
    for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
      const message = this.redact(e.message);
      if (message !== e.message) e.message = message;
      if (e.stack !== undefined) {
        const stack = this.redact(e.stack);
        if (stack !== e.stack) e.stack = stack;
      }
    }
    return error;
  }
}

/** Redacts `text` of the given secrets; for one-off uses (an error excerpt). */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  return new Redactor(secrets).redact(text);
}

/**
 * Source data or a server's words inside a log line or an error: every control character (newlines, carriage returns,
 * terminal escape codes, the Unicode line separators) written as a visible escape, so nothing read from outside can
 * start a line of its own or rewrite the terminal.
 */
export function escapeControlCharacters(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this finds and escapes
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
