import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { sharedKeyAuthorization } from '../../src/sink/sharedKeyAuthorization.js';

// Vectors computed independently with `openssl dgst -sha256 -mac HMAC` over the documented string to sign.
const KEY = Buffer.from('ZmFrZS13b3Jrc3BhY2Uta2V5LWZvci10ZXN0cy1vbmx5LTAxMjM0NTY3ODlhYmNkZWY=', 'base64');
const WORKSPACE = '00000000-0000-4000-8000-000000000001';
const NON_ASCII_BODY = '[{"Id":"a1","UserName":"Jürgen 山田 🚀"}]';

describe('sharedKeyAuthorization', () => {
  it('signs the UTF-8 byte length of a non-ASCII body', () => {
    const bytes = Buffer.byteLength(NON_ASCII_BODY, 'utf8');
    assert.equal(bytes, 46);
    assert.equal(
      sharedKeyAuthorization({
        workspaceId: WORKSPACE,
        keyBytes: KEY,
        rfc1123Date: 'Mon, 23 Nov 2026 16:00:00 GMT',
        contentLengthBytes: bytes,
      }),
      `SharedKey ${WORKSPACE}:w2p91pg2XWx/Gsdjqay2zA4dFBtv7qfra8zKV7zrbl4=`,
    );
  });

  it('gives a different signature for the character count, which Azure rejects with 403', () => {
    assert.equal(NON_ASCII_BODY.length, 39); // UTF-16 code units; `wc -m` counts 38 code points
    const byCodePoints = sharedKeyAuthorization({
      workspaceId: WORKSPACE,
      keyBytes: KEY,
      rfc1123Date: 'Mon, 23 Nov 2026 16:00:00 GMT',
      contentLengthBytes: 38,
    });
    assert.equal(byCodePoints, `SharedKey ${WORKSPACE}:Fu8Vs1WpcPwV2dz1sLzul9gekj/t9nxC1NxmCtQTGWs=`);
  });

  it('signs an empty body at the epoch', () => {
    assert.equal(
      sharedKeyAuthorization({
        workspaceId: WORKSPACE,
        keyBytes: KEY,
        rfc1123Date: new Date(0).toUTCString(),
        contentLengthBytes: 0,
      }),
      `SharedKey ${WORKSPACE}:KOQgXkRG2v/YeLnAw0AGitqRKNDAP1vHxDJCNRoP2gc=`,
    );
  });
});
