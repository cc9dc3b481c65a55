// The queue function of multi-tenant mode: one message, one tenant's ingestion, with that tenant's own checkpoint,
// credentials and sink. Registered only when TENANT_REGISTRY is set, so a single-tenant app has no queue trigger.
import azureFunctions, { type InvocationContext } from '@azure/functions';

import { tenantQueueName } from '../tenants/tenantStorage.js';

// The library is a bundled CommonJS module, so ESM sees its exports only through the default import.
const { app } = azureFunctions;

export async function mcasTenantRun(message: unknown, context: InvocationContext): Promise<void> {
  // Loaded here, not at import, for the host's cold start (as the timer does).
  const { handleTenantMessage } = await import('../tenants/handleTenantMessage.js');
  await handleTenantMessage(message, context);
}

// The trigger's queue is fixed when the host indexes the app, so this reads two settings at import; neither read can
// throw. The connection is the function's own storage (AzureWebJobsStorage, identity-based in Azure).
if ((process.env['TENANT_REGISTRY'] ?? '').trim() !== '') {
  app.storageQueue('mcasTenantRun', {
    queueName: tenantQueueName(process.env),
    connection: 'AzureWebJobsStorage',
    handler: mcasTenantRun,
  });
}
