import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { RecordingLogger, safeLogger } from '../src/logger.js';
import { escapeControlCharacters, MIN_FRAGMENT_CHARS, Redactor } from '../src/redact.js';

const TOKEN = 'q7Lw2Zr9Xk4Pm1Vb8Nc3Hd6Jf0Ts5Ye2';
const KEY = Buffer.from('an obviously fake workspace key, 0001').toString('base64');

describe('Redactor', () => {
  const redactor = new Redactor([TOKEN, KEY, undefined]);

  it('replaces a secret raw, in base64, in base64url and URL-encoded', () => {
    for (const form of [
      TOKEN,
      Buffer.from(TOKEN).toString('base64'),
      Buffer.from(TOKEN).toString('base64url'),
      encodeURIComponent(`Token ${TOKEN}`),
      KEY,
      encodeURIComponent(KEY),
      Buffer.from(KEY, 'base64').toString('base64url'),
    ]) {
      assert.equal(redactor.redact(`before ${form} after`).includes(form.slice(-MIN_FRAGMENT_CHARS)), false, form);
      assert.match(redactor.redact(`before ${form} after`), /^before .*\[redacted\].* after$/);
    }
  });

  it('replaces any piece of a secret as long as MIN_FRAGMENT_CHARS, and keeps the text around it', () => {
    const piece = TOKEN.slice(7, 7 + MIN_FRAGMENT_CHARS);
    assert.equal(redactor.redact(`near "${piece}".`), 'near "[redacted]".');
    const longer = TOKEN.slice(3, 30);
    assert.equal(redactor.redact(`x${longer}y`), 'x[redacted]y');
  });

  it('leaves shorter pieces and unrelated text alone', () => {
    const short = TOKEN.slice(0, MIN_FRAGMENT_CHARS - 1);
    assert.equal(redactor.redact(`a ${short} b`), `a ${short} b`);
    assert.equal(redactor.redact('Run done: fetched 10, sent 10.'), 'Run done: fetched 10, sent 10.');
    assert.equal(new Redactor([]).redact(TOKEN), TOKEN);
  });

  it('redacts the message and stack of an error and of its causes', () => {
    const cause = new Error(`inner ${TOKEN}`);
    const error = new Error(`outer ${Buffer.from(TOKEN).toString('base64')}`, { cause });
    redactor.redactError(error);
    assert.equal(error.message, 'outer [redacted]');
    assert.equal(cause.message, 'inner [redacted]');
    assert.equal(String(error.stack).includes(TOKEN.slice(0, MIN_FRAGMENT_CHARS)), false);
  });
});

describe('escapeControlCharacters', () => {
  it('writes newlines, carriage returns, terminal codes and line separators as visible escapes', () => {
    assert.equal(
      escapeControlCharacters('a\nb\rc\td\u001b[2Ke\u2028f\u0085'),
      'a\\nb\\rc\\td\\u001b[2Ke\\u2028f\\u0085',
    );
    assert.equal(escapeControlCharacters('plain text, ünïcode ✓'), 'plain text, ünïcode ✓');
  });
});

describe('safeLogger', () => {
  it('redacts and escapes every line before the logger underneath sees it', () => {
    const lines = new RecordingLogger();
    const log = safeLogger(lines, new Redactor([TOKEN]));
    log.info(`id x\n[info] forged ${TOKEN}`);
    log.warn('\u001b[31mred');
    log.error('plain');
    assert.deepEqual(lines.lines, [
      { level: 'info', message: 'id x\\n[info] forged [redacted]' },
      { level: 'warn', message: '\\u001b[31mred' },
      { level: 'error', message: 'plain' },
    ]);
  });
});
