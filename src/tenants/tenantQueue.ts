// The fan-out: with a registry configured, the timer enqueues one message per enabled tenant and ingests nothing
// itself; the queue function runs one tenant per message. Messages carry only the tenant's key: what a tenant is
// comes from the registry when its run starts, never from a message.
import type { TokenCredential } from '@azure/identity';
import type { QueueClient } from '@azure/storage-queue';
import { z } from 'zod';

import { errorStatus } from '../errors.js';
import type { Logger } from '../logger.js';
import { lazyIdentity } from './lazyIdentity.js';
import { loadRegistry } from './loadRegistry.js';
import { describeProblem, TENANT_KEY } from './TenantRegistry.js';
import { queueClient, storageAccess, tenantQueueName } from './tenantStorage.js';

/** A message older than this is dropped by the queue: a later tick has enqueued the tenant again by then. */
const MESSAGE_TTL_SECONDS = 3600;

export const TenantMessageSchema = z.object({
  tenant: z.string().regex(TENANT_KEY),
  enqueuedAt: z.string().optional(),
});
export type TenantMessage = z.infer<typeof TenantMessageSchema>;

/**
 * The message as the queue trigger hands it over: the host decodes base64 and gives JSON as an object; a string is
 * parsed here. Throws a TypeError naming what is wrong (the message then ends in the poison queue).
 */
export function parseTenantMessage(message: unknown): TenantMessage {
  let value = message;
  if (typeof message === 'string') {
    try {
      value = JSON.parse(message);
    } catch {
      throw new TypeError('The queue message is not JSON; expected {"tenant":"<key>"}.');
    }
  }
  const parsed = TenantMessageSchema.safeParse(value);
  if (!parsed.success) throw new TypeError('The queue message is not {"tenant":"<key>"} with a valid tenant key.');
  return parsed.data;
}

/** Base64 of the JSON text: the Functions host's queue trigger expects base64 messages (its default encoding). */
export function encodeTenantMessage(message: TenantMessage): string {
  return Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
}

export interface FanOutResult {
  enqueued: string[];
  disabled: string[];
  /** Keys (or `tenants[i]`) of entries left out because they are invalid. */
  invalid: string[];
}

export interface FanOutOptions {
  credential?: TokenCredential;
  /** The queue to send to; default TENANT_QUEUE_NAME in AzureWebJobsStorage. */
  queue?: QueueClient;
  nowMs?: number;
}

/**
 * Enqueues one run per enabled tenant. Invalid entries are logged as errors, by tenant and field, and skipped; the
 * others are enqueued all the same. Throws when the registry cannot be read or the queue cannot be written.
 */
export async function enqueueTenantRuns(
  env: NodeJS.ProcessEnv,
  log: Logger,
  options: FanOutOptions = {},
): Promise<FanOutResult> {
  const credential = lazyIdentity(env, options.credential);
  const registry = await loadRegistry(env, credential);
  for (const problem of registry.problems)
    log.error(`Registry: ${describeProblem(problem)} (this tenant does not run).`);
  const queue = options.queue ?? (await queueClient(storageAccess(env), tenantQueueName(env), credential));
  const enabled = registry.tenants.filter((t) => t.enabled);
  const enqueuedAt = new Date(options.nowMs ?? Date.now()).toISOString();
  const send = (tenant: string) =>
    queue.sendMessage(encodeTenantMessage({ tenant, enqueuedAt }), { messageTimeToLive: MESSAGE_TTL_SECONDS });
  const first = enabled[0];
  if (first !== undefined) {
    // The first send tells whether the queue exists; the infra creates it, a local Azurite may not have it yet.
    await send(first.key).catch(async (error: unknown) => {
      if (errorStatus(error) !== 404) throw error;
      await queue.createIfNotExists();
      await send(first.key);
    });
    await Promise.all(enabled.slice(1).map((t) => send(t.key)));
  }
  const result: FanOutResult = {
    enqueued: enabled.map((t) => t.key),
    disabled: registry.tenants.filter((t) => !t.enabled).map((t) => t.key),
    invalid: [...new Set(registry.problems.map((p) => p.tenant))],
  };
  log.info(
    `Enqueued ${result.enqueued.length} tenant runs on ${queue.name}` +
      (result.disabled.length > 0 ? `; disabled: ${result.disabled.join(', ')}` : '') +
      `${result.invalid.length > 0 ? `; invalid, not run: ${result.invalid.join(', ')}` : ''}.`,
  );
  return result;
}
