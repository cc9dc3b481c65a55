// Stands in for the Azure Functions host's queue trigger, which cannot run here (no Core Tools), on a real queue in
// Azurite. It follows the WebJobs SDK's QueueListener and QueueProcessor as host.json configures them: it fetches up to
// `batchSize` messages and fetches more once no more than `newBatchThreshold` are running; a message is invisible while
// its function runs; success deletes it; a failure makes it visible again after `visibilityTimeout`, unless its
// dequeue count has reached `maxDequeueCount`, when it is copied to `<queue>-poison` and deleted (a message seen more
// often than that, after a crash, goes there without running). The handler gets the message decoded from base64 and,
// when it is JSON, parsed, with the trigger metadata the host passes. Only time is compressed: visibility timeouts
// are taken as 0 s so that retries happen at once.
import { readFileSync } from 'node:fs';

import azureFunctions, { type InvocationContext } from '@azure/functions';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';

const { InvocationContext: Context } = azureFunctions;

export interface QueueSettings {
  batchSize: number;
  newBatchThreshold: number;
  maxDequeueCount: number;
}

/** extensions.queues of the repository's host.json, with the host's defaults for what it leaves out. */
export function hostQueueSettings(): QueueSettings {
  const host = JSON.parse(readFileSync(new URL('../../../host.json', import.meta.url), 'utf8')) as {
    extensions?: { queues?: Partial<QueueSettings> };
  };
  const queues = host.extensions?.queues ?? {};
  const batchSize = queues.batchSize ?? 16;
  return {
    batchSize,
    newBatchThreshold: queues.newBatchThreshold ?? Math.floor(batchSize / 2),
    maxDequeueCount: queues.maxDequeueCount ?? 5,
  };
}

export interface Invocation {
  messageId: string;
  /** The message as the handler got it. */
  message: unknown;
  dequeueCount: number;
  outcome: 'succeeded' | 'failed' | 'poisoned';
  error?: Error;
  logs: { level: string; text: string }[];
}

export interface DrainResult {
  invocations: Invocation[];
  /** Most functions running at once. */
  maxConcurrent: number;
}

/** How long a running message stays invisible: the host's function timeout (10 min). */
const RUNNING_VISIBILITY_SECONDS = 600;

/** Runs `handler` over the queue until it is empty and nothing is running. */
export async function drainQueue(
  queue: QueueClient,
  poison: QueueClient,
  handler: (message: unknown, context: InvocationContext) => Promise<unknown>,
  settings: QueueSettings = hostQueueSettings(),
): Promise<DrainResult> {
  const invocations: Invocation[] = [];
  const running = new Set<Promise<void>>();
  let maxConcurrent = 0;

  const process = async (item: DequeuedMessageItem): Promise<void> => {
    const logs: Invocation['logs'] = [];
    const message = decode(item.messageText);
    const record = (outcome: Invocation['outcome'], error?: Error): void => {
      invocations.push({
        messageId: item.messageId,
        message,
        dequeueCount: item.dequeueCount,
        outcome,
        logs,
        ...(error ? { error } : {}),
      });
    };
    if (item.dequeueCount > settings.maxDequeueCount) {
      await moveToPoison(poison, queue, item);
      record('poisoned');
      return;
    }
    const context = new Context({
      functionName: 'mcasTenantRun',
      invocationId: `${item.messageId}-${item.dequeueCount}`,
      triggerMetadata: {
        id: item.messageId,
        dequeueCount: item.dequeueCount,
        insertionTime: item.insertedOn,
        expirationTime: item.expiresOn,
        nextVisibleTime: item.nextVisibleOn,
        popReceipt: item.popReceipt,
      },
      logHandler: (level, ...args) => logs.push({ level, text: args.map(String).join(' ') }),
    });
    try {
      await handler(message, context);
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      if (item.dequeueCount >= settings.maxDequeueCount) {
        await moveToPoison(poison, queue, item);
        record('poisoned', e);
      } else {
        await queue.updateMessage(item.messageId, item.popReceipt, undefined, 0);
        record('failed', e);
      }
      return;
    }
    await queue.deleteMessage(item.messageId, item.popReceipt);
    record('succeeded');
  };

  for (;;) {
    if (running.size <= settings.newBatchThreshold) {
      const { receivedMessageItems } = await queue.receiveMessages({
        numberOfMessages: settings.batchSize,
        visibilityTimeout: RUNNING_VISIBILITY_SECONDS,
      });
      for (const item of receivedMessageItems) {
        const task = process(item).finally(() => running.delete(task));
        running.add(task);
      }
      maxConcurrent = Math.max(maxConcurrent, running.size);
      if (receivedMessageItems.length === 0 && running.size === 0) {
        const { approximateMessagesCount } = await queue.getProperties();
        if (!approximateMessagesCount) return { invocations, maxConcurrent };
      }
    }
    // Wait for a function to finish, or poll again shortly (the host polls with backoff up to maxPollingInterval).
    await Promise.race([...running, new Promise((resolve) => setTimeout(resolve, 5))]);
  }
}

/** What the host does with a poison message: the same text on `<queue>-poison`, then the original deleted. */
async function moveToPoison(poison: QueueClient, queue: QueueClient, item: DequeuedMessageItem): Promise<void> {
  await poison.createIfNotExists();
  await poison.sendMessage(item.messageText);
  await queue.deleteMessage(item.messageId, item.popReceipt);
}

function decode(text: string): unknown {
  const decoded = Buffer.from(text, 'base64').toString('utf8');
  try {
    return JSON.parse(decoded) as unknown;
  } catch {
    return decoded;
  }
}
