// loadSecrets(): the MCAS API token and the Log Analytics workspace key, from Key Vault through a managed identity in
// Azure, or from plain app settings for local runs only. No value ever reaches a log line or an error message.
// The Azure SDK modules are loaded only for Key Vault, not at import: a local run with env values needs neither.
import type { TokenCredential } from '@azure/identity';
import type { SecretClient, SecretClientOptions } from '@azure/keyvault-secrets';

import { describeWorkspaceKeyProblem, type SecretSource } from './config.js';
import { credentialAdvice, whoNeedsTheRole } from './credentialAdvice.js';
import { isCredentialError, SecretError } from './errors.js';
import type { Logger } from './logger.js';
import { Secret } from './Secret.js';
import { describeNetworkCode } from './unreachable.js';

/** The secrets a run needs; one the chosen MCAS auth or sink does not use is left out. */
export interface Secrets {
  /** The MCAS API token (MCAS_AUTH=token). */
  mcasToken?: Secret | undefined;
  /** The Log Analytics workspace key (the Data Collector sink). */
  workspaceKey?: Secret | undefined;
}

export interface LoadSecretsOptions {
  log: Logger;
  /** Credential for Key Vault; default DefaultAzureCredential (the managed identity in Azure). */
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
  const { DefaultAzureCredential } = await import('@azure/identity');
  const { SecretClient } = await import('@azure/keyvault-secrets');
  const credential =
    options.credential ?? new DefaultAzureCredential({ managedIdentityClientId: options.managedIdentityClientId });
  const client = new SecretClient(vaultUrl, credential, options.clientOptions);
  // allSettled, then report in a fixed order, so that the same vault state always gives the same error.
  const read = (name: string | undefined) =>
    name === undefined ? Promise.resolve(undefined) : readSecret(client, vaultUrl, name);
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

async function readSecret(client: SecretClient, vaultUrl: string, name: string): Promise<string> {
  let value: string | undefined;
  try {
    value = (await client.getSecret(name)).value;
  } catch (error) {
    throw describeReadFailure(error, vaultUrl, name);
  }
  const trimmed = (value ?? '').trim();
  if (trimmed === '') {
    throw new SecretError(
      `Secret '${name}' in Key Vault ${vaultUrl} is empty; set its value with az keyvault secret set.`,
    );
  }
  return trimmed;
}

/**
 * Turns a failed read into a SecretError an operator can act on. `cause` is kept only for errors whose message
 * cannot hold the value: credential errors, network errors, and RestErrors for error statuses (their text is the
 * vault's error body). A RestError for a 2xx (a body that did not parse) quotes the body, so it is dropped.
 */
function describeReadFailure(error: unknown, vaultUrl: string, name: string): SecretError {
  const secret = `secret '${name}'`;
  if (!(error instanceof Error)) return new SecretError(`Could not read ${secret} from Key Vault ${vaultUrl}.`);
  if (isCredentialError(error)) {
    return new SecretError(
      `Could not get a token for Key Vault ${vaultUrl} to read ${secret}: ${credentialAdvice(error, process.env)}`,
      { cause: error },
    );
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  const code = (error as { code?: unknown }).code;
  if (error.name === 'RestError' && typeof status === 'number' && status >= 400) {
    if (status === 404) {
      return new SecretError(
        `Secret '${name}' was not found in Key Vault ${vaultUrl}; create it with ` +
          `az keyvault secret set --vault-name ${vaultName(vaultUrl)} --name ${name} --file <file-holding-the-value>.`,
        { cause: error },
      );
    }
    if (status === 401 || status === 403) {
      return new SecretError(
        `Key Vault ${vaultUrl} refused to let this app read ${secret} (HTTP ${status}). Give ` +
          `${whoNeedsTheRole(process.env)} the 'Key Vault Secrets User' role on the vault (or a secret 'get' access ` +
          "policy on a vault that uses access policies), and check that the vault's firewall lets the function in.",
        { cause: error },
      );
    }
    return new SecretError(`Key Vault ${vaultUrl} answered HTTP ${status} when reading ${secret}.`, { cause: error });
  }
  if (error.name === 'RestError' && status === undefined && typeof code === 'string') {
    return new SecretError(
      `Could not reach Key Vault ${vaultUrl} (KEY_VAULT_URL) to read ${secret}: ${describeNetworkCode(code)} (${code}). ` +
        "Check KEY_VAULT_URL, and that the vault's firewall lets this machine in.",
      { cause: error },
    );
  }
  const detail = typeof code === 'string' ? `${error.name} ${code}` : error.name;
  return new SecretError(`Could not read ${secret} from Key Vault ${vaultUrl} (${detail}).`);
}

/** The vault's name for az commands: the first label of its host (myvault in https://myvault.vault.azure.net). */
function vaultName(vaultUrl: string): string {
  return new URL(vaultUrl).hostname.split('.')[0] ?? vaultUrl;
}
