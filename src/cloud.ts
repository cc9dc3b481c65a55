// AZURE_CLOUD profiles: the host names, suffixes and token scopes that differ between Azure public, Azure Government
// and Azure operated by 21Vianet (China). Pure data and checks; config.ts picks one profile and derives hosts from it.

export type AzureCloudName = 'public' | 'usgov' | 'china';

export const AZURE_CLOUD_NAMES: readonly AzureCloudName[] = Object.freeze(['public', 'usgov', 'china']);

/** The Defender for Cloud Apps application (Microsoft Cloud App Security), the resource of its Entra tokens. */
export const MCAS_RESOURCE_APP_ID = '05a65629-4c1b-48c1-a78b-804c4abdd4af';

/** The application permission (app role) an app or managed identity needs to list activities. */
export const MCAS_ACTIVITIES_APP_ROLE = 'Investigation.read';

/**
 * API host suffixes of every Defender for Cloud Apps offering: commercial, GCC (`cloudappsecuritygov.com`) and
 * GCC High / DoD (`cloudappsecurity.us`). A legacy API token works against any of them from any cloud.
 */
export const MCAS_API_HOST_SUFFIXES: readonly string[] = Object.freeze([
  'portal.cloudappsecurity.com',
  'portal.cloudappsecuritygov.com',
  'portal.cloudappsecurity.us',
]);

export interface CloudProfile {
  readonly name: AzureCloudName;
  /** Data Collector API host suffix: `https://<workspaceId>.<dataCollectorDomain>`. */
  readonly dataCollectorDomain: string;
  /** Key Vault host suffix: `https://<vault>.<keyVaultSuffix>`. */
  readonly keyVaultSuffix: string;
  /** Blob service host suffix: `https://<account>.<blobSuffix>`. */
  readonly blobSuffix: string;
  /** Host suffix of data collection endpoints and of a DCR's own logs ingestion endpoint. */
  readonly logsIngestionSuffix: string;
  /** Entra audience of the Logs Ingestion API; LogsIngestionClient asks for `<audience>/.default`. */
  readonly monitorAudience: string;
  /** The scope LogsIngestionClient requests with that audience. */
  readonly monitorScope: string;
  /** Entra authority host for app registrations (client secret or certificate). */
  readonly authorityHost: string;
  readonly mcas: {
    /**
     * MCAS API host suffixes whose tenants sign in with this cloud's Entra ID, so that MCAS_AUTH=entra can get them a
     * token here. Empty when Defender for Cloud Apps is not offered.
     */
    readonly entraHostSuffixes: readonly string[];
    /** Entra scope of MCAS API tokens. */
    readonly scope: string;
    /** Set when Defender for Cloud Apps is not offered in this cloud: why every MCAS host is refused. */
    readonly unavailableReason?: string;
  };
}

/** The scope of MCAS API tokens (api-authentication-application: `05a65629-…/.default`), the same in every cloud. */
export const MCAS_SCOPE = `${MCAS_RESOURCE_APP_ID}/.default`;

function profile(value: CloudProfile): CloudProfile {
  Object.freeze(value.mcas.entraHostSuffixes);
  Object.freeze(value.mcas);
  return Object.freeze(value);
}

export const CLOUD_PROFILES: Readonly<Record<AzureCloudName, CloudProfile>> = Object.freeze({
  public: profile({
    name: 'public',
    dataCollectorDomain: 'ods.opinsights.azure.com',
    keyVaultSuffix: 'vault.azure.net',
    blobSuffix: 'blob.core.windows.net',
    logsIngestionSuffix: 'ingest.monitor.azure.com',
    monitorAudience: 'https://monitor.azure.com',
    monitorScope: 'https://monitor.azure.com/.default',
    authorityHost: 'https://login.microsoftonline.com',
    // GCC tenants live in the commercial Entra ID (login.microsoftonline.com) although their portal is on a .gov host.
    mcas: { entraHostSuffixes: ['portal.cloudappsecurity.com', 'portal.cloudappsecuritygov.com'], scope: MCAS_SCOPE },
  }),
  usgov: profile({
    name: 'usgov',
    dataCollectorDomain: 'ods.opinsights.azure.us',
    keyVaultSuffix: 'vault.usgovcloudapi.net',
    blobSuffix: 'blob.core.usgovcloudapi.net',
    logsIngestionSuffix: 'ingest.monitor.azure.us',
    monitorAudience: 'https://monitor.azure.us',
    monitorScope: 'https://monitor.azure.us/.default',
    authorityHost: 'https://login.microsoftonline.us',
    mcas: { entraHostSuffixes: ['portal.cloudappsecurity.us'], scope: MCAS_SCOPE },
  }),
  china: profile({
    name: 'china',
    dataCollectorDomain: 'ods.opinsights.azure.cn',
    keyVaultSuffix: 'vault.azure.cn',
    blobSuffix: 'blob.core.chinacloudapi.cn',
    logsIngestionSuffix: 'ingest.monitor.azure.cn',
    monitorAudience: 'https://monitor.azure.cn',
    monitorScope: 'https://monitor.azure.cn/.default',
    authorityHost: 'https://login.chinacloudapi.cn',
    mcas: {
      entraHostSuffixes: [],
      scope: MCAS_SCOPE,
      unavailableReason:
        'Microsoft Defender for Cloud Apps is not offered in Azure operated by 21Vianet (Microsoft documents no API ' +
        'host for it there), so there is nothing to read from in AZURE_CLOUD=china. Run the connector in the cloud of ' +
        'your Defender for Cloud Apps tenant (public or usgov).',
    },
  }),
});

export function isAzureCloudName(value: string): value is AzureCloudName {
  return (AZURE_CLOUD_NAMES as readonly string[]).includes(value);
}

/** The profile for an AZURE_CLOUD value (case-insensitive; unset means public), or undefined for an unknown name. */
export function cloudProfile(value: string | undefined): CloudProfile | undefined {
  const name = (value ?? 'public').trim().toLowerCase();
  return isAzureCloudName(name) ? CLOUD_PROFILES[name] : undefined;
}

/** True when `hostname` is `<at least one label>.<suffix>`, ignoring case. */
export function hasHostSuffix(hostname: string, suffix: string): boolean {
  const host = hostname.toLowerCase();
  const tail = `.${suffix.toLowerCase()}`;
  return (
    host.endsWith(tail) && host.length > tail.length && /^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(host.slice(0, -tail.length))
  );
}

/**
 * Why `hostname` cannot be the MCAS API under `profile` with the given auth, or undefined when it can. A legacy token
 * is accepted for any Defender for Cloud Apps host; an Entra token only for tenants that sign in with this cloud.
 */
export function describeMcasHostProblem(
  profile: CloudProfile,
  hostname: string,
  auth: 'token' | 'entra',
): string | undefined {
  if (profile.mcas.unavailableReason) return profile.mcas.unavailableReason;
  if (!MCAS_API_HOST_SUFFIXES.some((suffix) => hasHostSuffix(hostname, suffix))) {
    return `${hostname} is not a Defender for Cloud Apps API host (*.${MCAS_API_HOST_SUFFIXES.join(', *.')}).`;
  }
  if (auth === 'entra' && !profile.mcas.entraHostSuffixes.some((suffix) => hasHostSuffix(hostname, suffix))) {
    // Every MCAS suffix is some cloud's, so `home` is found; 'public' only satisfies the type.
    const home =
      AZURE_CLOUD_NAMES.find((name) =>
        CLOUD_PROFILES[name].mcas.entraHostSuffixes.some((s) => hasHostSuffix(hostname, s)),
      ) ?? 'public';
    return (
      `${hostname} belongs to a tenant that signs in with Entra ID in AZURE_CLOUD=${home}, not ${profile.name}: ` +
      `set AZURE_CLOUD=${home} (with that cloud's identity), or use MCAS_AUTH=token.`
    );
  }
  return undefined;
}

/** The Data Collector API origin of a workspace in this cloud. */
export function dataCollectorEndpoint(profile: CloudProfile, workspaceId: string): string {
  return `https://${workspaceId.toLowerCase()}.${profile.dataCollectorDomain}`;
}

/** The blob service origin of a storage account in this cloud. */
export function blobServiceUrl(profile: CloudProfile, accountName: string): string {
  return `https://${accountName}.${profile.blobSuffix}`;
}

/** `<vault>.<keyVaultSuffix>`, one label before the suffix. */
export function isKeyVaultHost(profile: CloudProfile, hostname: string): boolean {
  const labels = profile.keyVaultSuffix.split('.').length + 1;
  return hasHostSuffix(hostname, profile.keyVaultSuffix) && hostname.split('.').length === labels;
}

export function isDataCollectorHost(profile: CloudProfile, hostname: string): boolean {
  return hasHostSuffix(hostname, profile.dataCollectorDomain);
}

export function isLogsIngestionHost(profile: CloudProfile, hostname: string): boolean {
  return hasHostSuffix(hostname, profile.logsIngestionSuffix);
}
