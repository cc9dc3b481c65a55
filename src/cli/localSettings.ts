// The Values of ./local.settings.json, as `func start` reads them, for runs from the command line. A broken file is
// reported with its name, line and column rather than JSON.parse's character position.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { errorCode } from '../errors.js';

/** local.settings.json could not be used; the message names the file and where it is wrong. */
export class LocalSettingsError extends Error {
  override name = 'LocalSettingsError';
}

export const LOCAL_SETTINGS_FILE = 'local.settings.json';

/**
 * `env` over the string Values of `<cwd>/local.settings.json` (the environment wins), or `env` alone when there is no
 * such file. Throws LocalSettingsError when the file exists but is not JSON, or its Values is not an object.
 */
export function withLocalSettings(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): NodeJS.ProcessEnv {
  const path = resolve(cwd, LOCAL_SETTINGS_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return env;
    throw new LocalSettingsError(`Could not read ${path} (${code ?? 'unknown error'}).`);
  }
  return { ...parseLocalSettings(text, path), ...env };
}

/** The string Values of a local.settings.json text; `path` is only for messages. */
export function parseLocalSettings(text: string, path: string): Record<string, string> {
  // Editors on Windows may save a byte order mark, which JSON.parse refuses.
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const { line, column } = lineAndColumn(json, errorPosition(reason, json));
    const what = reason.replace(/\s*(in JSON )?at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)/, '');
    throw new LocalSettingsError(
      `${path} is not valid JSON at line ${line}, column ${column}: ${what.replace(/\.$/, '')}. ` +
        'Fix the file, or move it away to use only environment variables.',
    );
  }
  const values = (parsed as { Values?: unknown } | null)?.Values;
  if (values === undefined) return {};
  if (typeof values !== 'object' || values === null || Array.isArray(values))
    throw new LocalSettingsError(`${path}: "Values" must be an object of setting names and string values.`);
  // func start reads numbers and booleans as their text and ignores nulls; nested values are a mistake.
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === null) continue;
    if (typeof value === 'object')
      throw new LocalSettingsError(
        `${path}: the value of "${name}" in "Values" must be a string, not an object or list.`,
      );
    settings[name] = String(value);
  }
  return settings;
}

/** Where JSON.parse stopped: V8 says "at position N" (Node 20 and 22); "Unexpected end" means the end of the text. */
function errorPosition(reason: string, text: string): number {
  const position = /position (\d+)/.exec(reason)?.[1];
  return position === undefined ? text.length : Number(position);
}

/** 1-based line and column of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}
