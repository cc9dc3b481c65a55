// BlobCheckpointStore against a real Azurite (one per file): the shared store contract, the blob layout, and that no
// error it throws carries the account key or a SAS signature.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';

import {
  AnonymousCredential,
  BlobServiceClient,
  ContainerClient,
  ContainerSASPermissions,
  type StoragePipelineOptions,
} from '@azure/storage-blob';

import { BlobCheckpointStore } from '../../src/checkpoint/BlobCheckpointStore.js';
import { Secret } from '../../src/Secret.js';
import { type Azurite, AZURITE_ACCOUNT_KEY, startAzurite } from '../../emulators/azurite.js';
import { checkpointAt, checkpointStoreContract } from './checkpointStoreContract.js';

const CONTAINER = 'checkpoints';
/** One try, so a failure is reported at once instead of after the SDK's back-off. */
const NO_RETRIES: StoragePipelineOptions = { retryOptions: { maxTries: 1 } };

describe('BlobCheckpointStore', () => {
  /** Unset until before() has started it, and still unset in after() when starting it failed. */
  let azurite: Azurite | undefined;
  let service: BlobServiceClient;
  let streams = 0;
  const azuriteConnectionString = (): string => {
    assert.ok(azurite, 'Azurite is running');
    return azurite.connectionString;
  };
  const freshName = (): string => `stream-${++streams}`;
  const storeFor = (name: string, container = CONTAINER): BlobCheckpointStore =>
    BlobCheckpointStore.fromConnectionString(azuriteConnectionString(), container, name, NO_RETRIES);

  before(async () => {
    azurite = await startAzurite();
    service = BlobServiceClient.fromConnectionString(azurite.connectionString, NO_RETRIES);
  });
  after(async () => {
    await azurite?.close();
  });

  checkpointStoreContract({
    emptyStore: () => Promise.resolve(storeFor(freshName())),
    storeHolding: async (content) => {
      const name = freshName();
      const container = service.getContainerClient(CONTAINER);
      await container.createIfNotExists();
      await container.getBlockBlobClient(`${name}.json`).upload(content, Buffer.byteLength(content));
      return storeFor(name);
    },
    twoStoresOnSameStorage: () => {
      const name = freshName();
      return Promise.resolve([storeFor(name), storeFor(name)]);
    },
    storeNamed: (name) => Promise.resolve(new BlobCheckpointStore(service.getContainerClient(CONTAINER), name)),
  });

  it('creates its container on first save and keeps the checkpoint as JSON in <name>.json', async () => {
    const store = storeFor('activities', 'new-container');
    assert.equal(await store.load(), undefined);
    await store.save(checkpointAt(1_000), undefined);
    const blob = service.getContainerClient('new-container').getBlobClient('activities.json');
    const properties = await blob.getProperties();
    assert.equal(properties.contentType, 'application/json');
    assert.deepEqual(JSON.parse((await blob.downloadToBuffer()).toString('utf8')), checkpointAt(1_000));
    assert.equal(store.describe(), 'blob devstoreaccount1/new-container/activities.json');
  });

  it('tolerates another instance creating the container at the same time', async () => {
    const [one, two] = [storeFor('activities', 'raced-container'), storeFor('alerts', 'raced-container')];
    await Promise.all([one.save(checkpointAt(1_000), undefined), two.save(checkpointAt(2_000), undefined)]);
    assert.equal((await two.load())?.checkpoint.cursor, 2_000);
  });

  it('saves through a container SAS that may write blobs but not create containers', async () => {
    const container = service.getContainerClient(CONTAINER);
    await container.createIfNotExists();
    const sasUrl = await container.generateSasUrl({
      permissions: ContainerSASPermissions.parse('rcw'),
      expiresOn: new Date(Date.now() + 3_600_000),
    });
    const writeOnly = new ContainerClient(sasUrl, new AnonymousCredential(), NO_RETRIES);
    const store = new BlobCheckpointStore(writeOnly, freshName());
    const etag = await store.save(checkpointAt(1_000), undefined);
    assert.equal((await store.load())?.etag, etag);
  });

  it('fails loudly, naming the blob, when it is not JSON', async () => {
    const name = freshName();
    await service.getContainerClient(CONTAINER).getBlockBlobClient(`${name}.json`).upload('oops', 4);
    await assert.rejects(storeFor(name).load(), (error: Error) => {
      assert.match(error.message, /is not a valid checkpoint \(it is not JSON\)/);
      assert.ok(error.message.includes(`devstoreaccount1/${CONTAINER}/${name}.json`));
      return true;
    });
  });

  it('accepts the connection string as a Secret', async () => {
    const store = BlobCheckpointStore.fromConnectionString(
      new Secret(azuriteConnectionString()),
      CONTAINER,
      freshName(),
      NO_RETRIES,
    );
    const etag = await store.save(checkpointAt(1_000), undefined);
    assert.equal((await store.load())?.etag, etag);
  });

  describe('keeps secrets out of its errors', () => {
    const wrongKey = Buffer.from('a wrong key that must never be shown').toString('base64');

    it('when the account key is wrong', async () => {
      const connectionString = azuriteConnectionString().replace(AZURITE_ACCOUNT_KEY, wrongKey);
      const store = BlobCheckpointStore.fromConnectionString(connectionString, CONTAINER, 'activities', NO_RETRIES);
      const errors = [await failureOf(store.load()), await failureOf(store.save(checkpointAt(1_000), undefined))];
      for (const error of errors) {
        assert.match(error.message, /status 403/);
        assertContainsNone(error, [wrongKey, AZURITE_ACCOUNT_KEY]);
      }
    });

    it('when storage cannot be reached', async () => {
      const port = await closedPort();
      const connectionString = azuriteConnectionString().replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`);
      const store = BlobCheckpointStore.fromConnectionString(connectionString, CONTAINER, 'activities', NO_RETRIES);
      const errors = [await failureOf(store.load()), await failureOf(store.save(checkpointAt(1_000), undefined))];
      for (const error of errors) {
        assert.match(error.message, /no response, ECONNREFUSED/);
        assertContainsNone(error, [AZURITE_ACCOUNT_KEY]);
      }
    });

    it('when a SAS does not allow the write, the signature is not shown', async () => {
      const container = service.getContainerClient(CONTAINER);
      await container.createIfNotExists();
      const sasUrl = await container.generateSasUrl({
        permissions: ContainerSASPermissions.parse('r'),
        expiresOn: new Date(Date.now() + 3_600_000),
      });
      const signature = new URL(sasUrl).searchParams.get('sig');
      assert.ok(signature);
      const readOnly = new ContainerClient(sasUrl, new AnonymousCredential(), NO_RETRIES);
      const store = new BlobCheckpointStore(readOnly, 'activities');
      const error = await failureOf(store.save(checkpointAt(1_000), undefined));
      assert.match(error.message, /status 403/);
      assertContainsNone(error, [signature, encodeURIComponent(signature), AZURITE_ACCOUNT_KEY]);
      assert.ok(!store.describe().includes('sig='));
    });

    it('when the connection string cannot be parsed', () => {
      const connectionString = `AccountKey=${wrongKey};this is not a connection string`;
      assert.throws(
        () => BlobCheckpointStore.fromConnectionString(connectionString, CONTAINER, 'activities'),
        (error: Error) => {
          assert.match(error.message, /could not be used/);
          assertContainsNone(error, [wrongKey]);
          return true;
        },
      );
    });
  });
});

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => assert.fail('expected a failure'),
    (reason: unknown) => {
      assert.ok(reason instanceof Error);
      return reason;
    },
  );
}

/** Checks the message, the stack and everything inspect() would print (causes included). */
function assertContainsNone(error: Error, secrets: string[]): void {
  const everything = [error.message, error.stack ?? '', inspect(error, { depth: 10 })].join('\n');
  for (const secret of secrets) assert.ok(!everything.includes(secret), `the error shows a secret: ${error.message}`);
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}
