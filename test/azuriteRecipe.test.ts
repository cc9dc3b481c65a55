// The README's local recipe: `npm run azurite` and AzureWebJobsStorage=UseDevelopmentStorage=true, with the pinned
// @azure/storage-blob. The pinned SDK sends an API version newer than Azurite knows, so the recipe depends on the
// script's flags; these tests run Azurite with exactly those flags (on a private port and folder).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { BlobServiceClient, isRestError } from '@azure/storage-blob';

import { type Azurite, AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME, startAzurite } from '../emulators/azurite.js';
import { BlobCheckpointStore } from '../src/checkpoint/BlobCheckpointStore.js';

const root = new URL('../../', import.meta.url);
const script = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> })
  .scripts['azurite'];

/** The script's flags, after the `azurite-blob` command. */
function scriptFlags(): string[] {
  const [command, ...flags] = (script ?? '').split(/\s+/);
  assert.equal(command, 'azurite-blob');
  return flags;
}

function flagValue(flags: readonly string[], name: string): string | undefined {
  const at = flags.indexOf(name);
  return at >= 0 ? flags[at + 1] : undefined;
}

/** What UseDevelopmentStorage=true means, with the port of a private instance instead of 10000. */
function developmentStorageOn(azurite: Azurite): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};` +
    `BlobEndpoint=${azurite.blobEndpoint};`
  );
}

describe('npm run azurite, for UseDevelopmentStorage=true', () => {
  it('listens where UseDevelopmentStorage=true looks, and keeps its data in a git-ignored folder', () => {
    const flags = scriptFlags();
    const url = new URL(BlobServiceClient.fromConnectionString('UseDevelopmentStorage=true').url);
    assert.equal(flagValue(flags, '--blobHost'), url.hostname);
    assert.equal(flagValue(flags, '--blobPort'), url.port);
    const location = flagValue(flags, '--location');
    assert.ok(location, 'the script names a data folder');
    const ignored = readFileSync(new URL('.gitignore', root), 'utf8').split('\n');
    assert.ok(ignored.includes(`${location.replace(/^\.\//, '')}/`), `.gitignore lacks ${location}/`);
  });

  describe('with the pinned @azure/storage-blob', () => {
    let azurite: Azurite;
    before(async () => {
      azurite = await startAzurite({ flags: scriptFlags() });
    });
    after(() => azurite.close());

    it('stores and reads a checkpoint', async () => {
      const store = BlobCheckpointStore.fromConnectionString(developmentStorageOn(azurite), 'mcas-connector', 'recipe');
      assert.equal(await store.load(), undefined);
      const checkpoint = {
        version: 1 as const,
        cursor: Date.UTC(2026, 0, 1),
        idsAtCursor: ['a'],
        origin: Date.UTC(2025, 11, 31),
        windowEnd: Date.UTC(2026, 0, 1),
        updatedAt: new Date().toISOString(),
      };
      const etag = await store.save(checkpoint, undefined);
      const loaded = await store.load();
      assert.equal(loaded?.etag, etag);
      assert.equal(loaded.checkpoint.cursor, checkpoint.cursor);
    });
  });

  it('needs its API version flag: without it Azurite refuses the pinned SDK with 400', async (t) => {
    const azurite = await startAzurite({ flags: scriptFlags().filter((flag) => flag !== '--skipApiVersionCheck') });
    t.after(() => azurite.close());
    const service = BlobServiceClient.fromConnectionString(developmentStorageOn(azurite), {
      retryOptions: { maxTries: 1 },
    });
    const refused = await service
      .getContainerClient('mcas-connector')
      .createIfNotExists()
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    // If this starts to pass, the installed Azurite knows the SDK's API version and the flag can go.
    assert.ok(isRestError(refused), `expected a refusal, got ${String(refused)}`);
    assert.equal(refused.statusCode, 400);
  });
});
