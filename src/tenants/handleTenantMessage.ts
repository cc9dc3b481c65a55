// The queue function's body: one message, one tenant's run. A failure is thrown so the host retries the message and,
// after host.json's maxDequeueCount attempts, moves it to the poison queue; the error is in the tenant's run report.
import type { InvocationContext } from '@azure/functions';

import type { WiringOverrides } from '../wiring.js';
import { runTenant, type TenantRunResult } from './runTenant.js';
import { parseTenantMessage } from './tenantQueue.js';
import { tenantQueueName } from './tenantStorage.js';

export interface TenantHandlerOptions {
  env?: NodeJS.ProcessEnv;
  overrides?: WiringOverrides;
}

export async function handleTenantMessage(
  message: unknown,
  context: InvocationContext,
  options: TenantHandlerOptions = {},
): Promise<TenantRunResult> {
  const env = options.env ?? process.env;
  const { tenant } = parseTenantMessage(message);
  const dequeueCount = Number(context.triggerMetadata?.['dequeueCount'] ?? 1);
  if (dequeueCount > 1) {
    context.warn(
      `Tenant ${tenant}: attempt ${dequeueCount}; after host.json's maxDequeueCount the message moves to ` +
        `${tenantQueueName(env)}-poison.`,
    );
  }
  const result = await runTenant(env, tenant, context, {
    ...(options.overrides ? { overrides: options.overrides } : {}),
  });
  if (result.outcome === 'ran') context.info(`Tenant ${tenant}: summary ${JSON.stringify(result.summary)}`);
  return result;
}
