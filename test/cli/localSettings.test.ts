import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { LocalSettingsError, lineAndColumn, parseLocalSettings } from '../../src/cli/localSettings.js';

describe('parseLocalSettings', () => {
  it('returns the Values as strings, reading numbers and booleans as func start does and skipping nulls', () => {
    const text = '\uFEFF{"IsEncrypted": false, "Values": {"A": "x", "B": 100, "C": true, "D": null}}';
    assert.deepEqual(parseLocalSettings(text, 'local.settings.json'), { A: 'x', B: '100', C: 'true' });
  });

  it('names the file, line and column of a syntax error', () => {
    assert.throws(
      () => parseLocalSettings('{\n  "Values": {\n    "A": "x",\n  }\n}', '/w/local.settings.json'),
      (error: Error) =>
        error instanceof LocalSettingsError &&
        /^\/w\/local\.settings\.json is not valid JSON at line 4, column 3: /.test(error.message) &&
        !/position/.test(error.message),
    );
  });

  it('points at the end of a file cut short', () => {
    assert.throws(() => parseLocalSettings('{\n  "Values": {\n', 'local.settings.json'), /at line 3, column 1: /);
  });

  it('refuses a Values that is not an object, and nested values', () => {
    assert.throws(() => parseLocalSettings('{"Values": []}', 'f'), /"Values" must be an object/);
    assert.throws(
      () => parseLocalSettings('{"Values": {"A": {"b": 1}}}', 'f'),
      /value of "A" in "Values" must be a string/,
    );
  });

  it('counts lines and columns from 1', () => {
    assert.deepEqual(lineAndColumn('ab\ncd', 0), { line: 1, column: 1 });
    assert.deepEqual(lineAndColumn('ab\ncd', 4), { line: 2, column: 2 });
  });
});
