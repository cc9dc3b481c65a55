// loadSecrets(): the MCAS API token and the Log Analytics workspace key, from Key Vault through a managed identity in
// Azure, or from plain app settings for local runs only. No value ever reaches a log line or an error message.
// The Azure SDK modules are loaded only for Key Vault, not at import: a local run with env values needs neither.
import type { TokenCredential } from '@azure/identity';
import type { SecretClientOptions } from '@azure/keyvault-secrets';

import { describeWorkspaceKeyProblem, type SecretSource } from './config.js';
import { createAzureCredential } from './credentials.js';
import { SecretError } from './errors.js';
import { openVault } from './keyVault.js';
import type { Logger } from './logger.js';
import { Secret } from './Secret.js';

/** The secrets a run needs; one the chosen MCAS auth or sink does not use is left out. */
export interface Secrets {
  /** The MCAS API token (MCAS_AUTH=token). */
  mcasToken?: Secret | undefined;
  /** The Log Analytics workspace key (the Data Collector sink). */
  workspaceKey?: Secret | undefined;
}

export interface LoadSecretsOptions {
  log: Logger;
  /** Credential for Key Vault; default the function's identity (createAzureCredential). */
  credential?: TokenCredential;
  /** Client id of a user-assigned managed identity (config.managedIdentityClientId); unset for system-assigned. */
  managedIdentityClientId?: string | undefined;
  /** Pipeline options for the SecretClient (tests pass tlsOptions; production passes nothing). */
  clientOptions?: SecretClientOptions;
}

/**
 * Returns the secrets the source names, trimmed. From Key Vault, reads them in parallel; throws SecretError when a
 * secret is missing, empty or malformed, when the identity may not read it, or when no managed identity token can be had.
 */
export async function loadSecrets(source: SecretSource, options: LoadSecretsOptions): Promise<Secrets> {
  if (source.kind === 'environment') {
    // Nothing to warn about when the set-up needs no secret at all (Entra auth to MCAS, Logs Ingestion sink).
    if (source.mcasToken === undefined && source.workspaceKey === undefined) return {};
    options.log.warn(
      'Secrets were read from app settings (environment); that is for local runs only. ' +
        'In Azure, set KEY_VAULT_URL and keep the MCAS token and workspace key in Key Vault.',
    );
    return { mcasToken: source.mcasToken, workspaceKey: source.workspaceKey };
  }

  const { vaultUrl, mcasTokenName, workspaceKeyName } = source;
  const credential = options.credential ?? (await createAzureCredential(options.managedIdentityClientId));
  const vault = await openVault(vaultUrl, { credential, clientOptions: options.clientOptions });
  // allSettled, then report in a fixed order, so that the same vault state always gives the same error.
  const read = (name: string | undefined) => (name === undefined ? Promise.resolve(undefined) : vault.read(name));
  const [token, key] = await Promise.allSettled([read(mcasTokenName), read(workspaceKeyName)]);
  if (token.status === 'rejected') throw token.reason;
  if (key.status === 'rejected') throw key.reason;

  if (token.value !== undefined && /\s/.test(token.value)) {
    throw new SecretError(
      `Secret '${mcasTokenName}' in Key Vault ${vaultUrl} contains white space; copy the MCAS API token again.`,
    );
  }
  const keyProblem = key.value === undefined ? undefined : describeWorkspaceKeyProblem(key.value);
  if (keyProblem) {
    throw new SecretError(
      `Secret '${workspaceKeyName}' in Key Vault ${vaultUrl} ${keyProblem}; ` +
        "store the workspace's primary or secondary key (az monitor log-analytics workspace get-shared-keys).",
    );
  }
  const names = [mcasTokenName, workspaceKeyName].filter((name) => name !== undefined).map((name) => `'${name}'`);
  if (names.length > 0) options.log.info(`Read secrets ${names.join(' and ')} from Key Vault ${vaultUrl}.`);
  return {
    mcasToken: token.value === undefined ? undefined : new Secret(token.value),
    workspaceKey: key.value === undefined ? undefined : new Secret(key.value),
  };
}
