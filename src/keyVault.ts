// The one Key Vault reader: every secret the connector keeps in Key Vault (the MCAS API token, the workspace key, an
// app registration's secret or certificate) is read here, with one set of messages. No value ever reaches a message.
// @azure/keyvault-secrets is loaded when a vault is opened, not at import: a local run with env values needs none.
import type { TokenCredential } from '@azure/identity';
import type { SecretClientOptions } from '@azure/keyvault-secrets';

import { credentialAdvice, whoNeedsTheRole } from './credentialAdvice.js';
import { describeNetworkCode, errorCode, errorStatus, isCredentialError, SecretError } from './errors.js';

export interface VaultOptions {
  /** The function's identity (credentials.ts), or a test's. */
  credential: TokenCredential;
  /** Pipeline options for the SecretClient (tests pass tlsOptions; production passes nothing). */
  clientOptions?: SecretClientOptions | undefined;
}

export interface Vault {
  /** The secret's value, trimmed. Throws SecretError when it is missing or empty, or cannot be read. */
  read(name: string): Promise<string>;
}

export async function openVault(vaultUrl: string, options: VaultOptions): Promise<Vault> {
  const { SecretClient } = await import('@azure/keyvault-secrets');
  const client = new SecretClient(vaultUrl, options.credential, options.clientOptions);
  return {
    read: async (name) => {
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
    },
  };
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
  const status = errorStatus(error);
  const code = errorCode(error);
  if (error.name === 'RestError' && status !== undefined && status >= 400) {
    if (status === 404) {
      return new SecretError(
        `Secret '${name}' was not found in Key Vault ${vaultUrl}; create it with ` +
          `az keyvault secret set --vault-name ${vaultName(vaultUrl)} --name ${name} --file <file-holding-the-value> ` +
          '(or, for a certificate, az keyvault certificate import).',
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
  if (error.name === 'RestError' && status === undefined && code !== undefined) {
    return new SecretError(
      `Could not reach Key Vault ${vaultUrl} (KEY_VAULT_URL) to read ${secret}: ${describeNetworkCode(code)} (${code}). ` +
        "Check KEY_VAULT_URL, and that the vault's firewall lets this machine in.",
      { cause: error },
    );
  }
  const detail = code !== undefined ? `${error.name} ${code}` : error.name;
  return new SecretError(`Could not read ${secret} from Key Vault ${vaultUrl} (${detail}).`);
}

/** The vault's name for az commands: the first label of its host (myvault in https://myvault.vault.azure.net). */
function vaultName(vaultUrl: string): string {
  return new URL(vaultUrl).hostname.split('.')[0] ?? vaultUrl;
}
