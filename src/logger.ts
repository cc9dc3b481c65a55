// The part of InvocationContext a run writes to, so tests and the CLI can pass their own.
import { escapeControlCharacters, type Redactor } from './redact.js';

export interface Logger {
  info: (message: string) => void;
  warn: (message: string) => void;
  error: (message: string) => void;
}

/**
 * Writes to stderr with a level prefix, keeping stdout free for machine-readable output. A message is one line: its
 * control characters are written as escapes, so source data cannot forge a line of its own.
 */
export const stderrLogger: Logger = {
  info: (message) => process.stderr.write(`[info] ${escapeControlCharacters(message)}\n`),
  warn: (message) => process.stderr.write(`[warn] ${escapeControlCharacters(message)}\n`),
  error: (message) => process.stderr.write(`[error] ${escapeControlCharacters(message)}\n`),
};

/**
 * The logger a run writes to: every line has the run's secrets redacted in every form (see Redactor) and its control
 * characters escaped, whatever it holds (a record id, a server's words), before `log` sees it.
 */
export function safeLogger(log: Logger, redactor?: Redactor): Logger {
  const clean = (message: string): string => escapeControlCharacters(redactor ? redactor.redact(message) : message);
  return {
    info: (message) => log.info(clean(message)),
    warn: (message) => log.warn(clean(message)),
    error: (message) => log.error(clean(message)),
  };
}

/** A logger that keeps what it is given; for tests and for checking that nothing secret is logged. */
export class RecordingLogger implements Logger {
  readonly lines: { level: 'info' | 'warn' | 'error'; message: string }[] = [];
  info(message: string): void {
    this.lines.push({ level: 'info', message });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
  error(message: string): void {
    this.lines.push({ level: 'error', message });
  }
  text(): string {
    return this.lines.map((l) => `${l.level}: ${l.message}`).join('\n');
  }
}
