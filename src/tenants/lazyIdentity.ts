// The function's identity for what multi-tenant mode reads itself (the registry, the queue, locks, app secrets).
import type { TokenCredential } from '@azure/identity';

import { createAzureCredential } from '../credentials.js';

/**
 * The function's identity (storage, Key Vault), built once and only when first needed: `given` (tests) or the managed
 * identity named by AZURE_CLIENT_ID (DefaultAzureCredential, a developer login locally).
 */
export function lazyIdentity(env: NodeJS.ProcessEnv, given?: TokenCredential): () => Promise<TokenCredential> {
  let identity: Promise<TokenCredential> | undefined;
  return () =>
    (identity ??= given ? Promise.resolve(given) : createAzureCredential(env['AZURE_CLIENT_ID']?.trim() || undefined));
}
