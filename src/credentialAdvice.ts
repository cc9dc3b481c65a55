// What to do when no Entra token could be had for an Azure resource (Key Vault), worded for where the connector runs:
// in Azure, its managed identity; on a laptop, an `az login`. DefaultAzureCredential's own message is a long dump of
// every credential it tried, with links and HTTP headers; this module says in a few words which ones it tried and why
// each did not work, and never quotes the dump. Pure: it reads only the error and the environment it is given.

/**
 * True inside Azure App Service / Functions, where the platform sets the managed identity endpoint and the instance
 * id. `func start` on a laptop sets neither.
 */
export function isRunningInAzure(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env['IDENTITY_ENDPOINT'] || env['MSI_ENDPOINT'] || env['WEBSITE_INSTANCE_ID']);
}

/** Who must hold an RBAC role on the resource: the function's identity in Azure, the signed-in account elsewhere. */
export function whoNeedsTheRole(env: NodeJS.ProcessEnv): string {
  return isRunningInAzure(env)
    ? "the function's managed identity"
    : "the account you signed in with (az account show names it), or the function app's identity when it runs in Azure";
}

/** The credentials DefaultAzureCredential chains, recognised by the start of their messages. */
const SOURCES: readonly (readonly [RegExp, string])[] = [
  [/EnvironmentCredential/, 'environment variables'],
  [/WorkloadIdentityCredential/, 'workload identity'],
  [/ManagedIdentityCredential/, 'managed identity'],
  [/Visual Studio Code/i, 'VS Code'],
  [/Azure Developer CLI|AzureDeveloperCliCredential|azd /, 'Azure Developer CLI'],
  [/Azure CLI|AzureCliCredential/, 'Azure CLI'],
  [/PowerShell/, 'Azure PowerShell'],
];

/** Why one credential did not give a token, in two or three words. */
function stateOf(message: string): string {
  if (/could not be found|couldn't be found|unable to execute|not installed|command not found/i.test(message))
    return 'not installed';
  if (/az login|azd auth login|connect-azaccount|not logged in|please run|sign in|signed in/i.test(message))
    return 'not signed in';
  if (/authentication failed/i.test(message)) return 'failed';
  if (/is unavailable|not available|not configured|not fully configured/i.test(message)) return 'not set up';
  return 'failed';
}

/** "environment variables (not set up), Azure CLI (not installed), …" from an AggregateAuthenticationError. */
export function describeCredentialsTried(error: Error): string {
  const errors = (error as { errors?: unknown }).errors;
  const tried = (Array.isArray(errors) ? errors : [error])
    .filter((e): e is Error => e instanceof Error)
    .map((e) => {
      const source = SOURCES.find(([pattern]) => pattern.test(e.message));
      return source ? `${source[1]} (${stateOf(e.message)})` : undefined;
    })
    .filter((entry): entry is string => entry !== undefined);
  return [...new Set(tried)].join(', ');
}

/**
 * What to do after a credential error while getting a token for `resource` (e.g. "Key Vault https://…"), without the
 * library's raw message. In Azure: turn on or name the managed identity. Elsewhere: `az login`, or a service principal
 * in the environment; and which credentials DefaultAzureCredential tried.
 */
export function credentialAdvice(error: Error, env: NodeJS.ProcessEnv): string {
  const tried = describeCredentialsTried(error);
  if (isRunningInAzure(env)) {
    return (
      "no managed identity answered for this app. Turn on the Function App's system-assigned identity, or assign a " +
      `user-assigned one and set AZURE_CLIENT_ID to its client id.${managedIdentityDetail(error)}`
    );
  }
  return (
    'no Azure sign-in was found on this machine. Run az login with an account that may read the vault (role ' +
    "'Key Vault Secrets User'), or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service " +
    `principal; then run the command again.${tried ? ` DefaultAzureCredential tried: ${tried}.` : ''}`
  );
}

const MAX_DETAIL_CHARS = 300;

/**
 * The first line of what the managed identity endpoint said (e.g. that the client id is not assigned to the app):
 * the one part of the chain's message worth quoting in Azure. It holds no secret.
 */
function managedIdentityDetail(error: Error): string {
  const errors = (error as { errors?: unknown }).errors;
  const found = (Array.isArray(errors) ? errors : [error]).find(
    (e): e is Error => e instanceof Error && e.message.startsWith('ManagedIdentityCredential'),
  );
  const line = found?.message.split('\n')[0]?.trim();
  if (!line) return '';
  return ` (${line.length > MAX_DETAIL_CHARS ? `${line.slice(0, MAX_DETAIL_CHARS)}…` : line})`;
}
