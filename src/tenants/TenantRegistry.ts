// The tenant registry: which Defender for Cloud Apps tenants one deployment serves, how each authenticates, where its
// rows go. Checked as a whole with zod before anything runs; a bad entry is reported by tenant key and field and
// disables only that tenant. Pure: reading the document from a blob or a file is loadRegistry's job.
import { z } from 'zod';

import { type CloudProfile, describeMcasHostProblem, isDataCollectorHost, isLogsIngestionHost } from '../cloud.js';
import { isLoopbackHost } from '../config.js';
import { RegistryError } from '../errors.js';

/** A tenant key names the tenant's checkpoint, lock and queue messages: lower-case, digits and -, like a blob name. */
export const TENANT_KEY = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const DCR_IMMUTABLE_ID = /^dcr-[0-9a-f]{32}$/i;
const STREAM_NAME = /^Custom-[A-Za-z0-9_]+$/;

const secretName = z.string().regex(SECRET_NAME, 'is not a Key Vault secret name (1-127 letters, digits, -)');
const guid = (what: string) => z.string().regex(GUID, `expected ${what} (a GUID)`);

/** How the connector signs in to the tenant's Defender for Cloud Apps API. */
const AuthSchema = z.discriminatedUnion(
  'kind',
  [
    /** The legacy API token, kept in Key Vault under `tokenSecretName`. */
    z.strictObject({ kind: z.literal('token'), tokenSecretName: secretName }),
    /**
     * A multitenant Entra app registration (Investigation.read, admin consent in the customer's tenant): its client
     * id, the customer's tenant id, and the name of its certificate (PEM with key) or client secret in Key Vault.
     */
    z
      .strictObject({
        kind: z.literal('entraApp'),
        clientId: guid("the app registration's client id"),
        tenantId: guid("the customer's tenant id"),
        certificateSecretName: secretName.optional(),
        clientSecretName: secretName.optional(),
      })
      .refine((auth) => (auth.certificateSecretName === undefined) !== (auth.clientSecretName === undefined), {
        error: 'give exactly one of certificateSecretName and clientSecretName',
        path: ['certificateSecretName'],
      }),
  ],
  { error: 'expected an object with kind "token" or "entraApp"' },
);

function sinkSchema(cloud: CloudProfile) {
  return z.discriminatedUnion(
    'kind',
    [
      /** The HTTP Data Collector API: the workspace id and the name of its shared key in Key Vault. */
      z.strictObject({
        kind: z.literal('dataCollector'),
        workspaceId: guid('the workspace id'),
        keySecretName: secretName,
        /** Only for sovereign or test endpoints; by default the workspace's endpoint in the deployment's cloud. */
        endpoint: origin((h) =>
          isDataCollectorHost(cloud, h) ? undefined : `${h} is not a Data Collector endpoint in ${cloud.name}`,
        ).optional(),
      }),
      /** The Logs Ingestion API: the DCE (or DCR endpoint), the DCR's immutable id and the stream. */
      z.strictObject({
        kind: z.literal('logsIngestion'),
        endpoint: origin((h) =>
          isLogsIngestionHost(cloud, h) ? undefined : `${h} is not a logs ingestion endpoint in ${cloud.name}`,
        ),
        dcrImmutableId: z.string().regex(DCR_IMMUTABLE_ID, "expected the DCR's immutable id (dcr-<32 hex digits>)"),
        streamName: z.string().regex(STREAM_NAME, 'expected a custom stream name (Custom-<name>)').optional(),
      }),
    ],
    { error: 'expected an object with kind "dataCollector" or "logsIngestion"' },
  );
}

const PagingSchema = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({ mode: z.literal('keyset'), pageSize: z.number().int().min(1).max(100).optional() }),
    z.strictObject({
      mode: z.literal('scan'),
      pageSize: z.number().int().min(500).max(5000).optional(),
      windowMinutes: z
        .number()
        .int()
        .min(0)
        .max(60 * 24 * 366)
        .optional(),
    }),
  ],
  { error: 'expected an object with mode "keyset" or "scan"' },
);

const FilterSchema = z
  .record(z.string(), z.record(z.string(), z.unknown()))
  .refine((filters) => !('created' in filters), '"created" is set by the connector (it is the checkpoint)');

/** A service origin whose host `hostProblem` accepts (any loopback host is accepted, for local test servers). */
function origin(hostProblem: (host: string) => string | undefined) {
  return z.string().superRefine((raw, ctx) => {
    const message = originProblem(raw, hostProblem);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message });
  });
}

function tenantEntrySchema(cloud: CloudProfile) {
  return z
    .strictObject({
      key: z.string().regex(TENANT_KEY, 'expected 1-40 of a-z, 0-9 and - (not at either end)'),
      /** A label for people (reports, status); the key is what the connector uses. */
      name: z.string().max(200).optional(),
      enabled: z.boolean().default(true),
      portalUrl: origin((h) => describeMcasHostProblem(cloud, h, 'token')),
      auth: AuthSchema,
      sink: sinkSchema(cloud),
      filters: FilterSchema.optional(),
      paging: PagingSchema.optional(),
      /** Below Microsoft's 30 a minute, e.g. when another tool reads the same tenant. */
      maxRequestsPerMinute: z.number().int().min(1).max(30).optional(),
    })
    .superRefine((entry, ctx) => {
      // An Entra token works only for tenants that sign in with the deployment's cloud; a legacy token anywhere.
      if (entry.auth.kind !== 'entraApp') return;
      const message = originProblem(entry.portalUrl, (h) => describeMcasHostProblem(cloud, h, 'entra'));
      if (message !== undefined) ctx.addIssue({ code: 'custom', path: ['portalUrl'], message });
    });
}

export type TenantEntry = z.infer<ReturnType<typeof tenantEntrySchema>>;
export type TenantAuth = TenantEntry['auth'];
export type TenantSink = TenantEntry['sink'];

/** One problem of one entry: `tenant` is its key, or `tenants[i]` when it has no usable key. */
export interface TenantProblem {
  tenant: string;
  field: string;
  message: string;
}

export interface TenantRegistry {
  /** Valid entries, enabled or not, in document order. */
  tenants: readonly TenantEntry[];
  /** Keys (or `tenants[i]`) of entries that will not run, each with every problem found. */
  problems: readonly TenantProblem[];
}

const DocumentSchema = z.object({ tenants: z.array(z.unknown()) });

/**
 * Parses the registry. Throws RegistryError only when the document as a whole is unusable; a bad entry (or two
 * entries sharing a key: which one is meant cannot be known) lands in `problems` and is left out of `tenants`.
 */
export function parseRegistry(text: string, cloud: CloudProfile): TenantRegistry {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RegistryError(`The tenant registry is not JSON (${error instanceof Error ? error.message : 'unknown'}).`);
  }
  const document = DocumentSchema.safeParse(value);
  if (!document.success) throw new RegistryError('The tenant registry must be a JSON object {"tenants": [ ... ]}.');

  const schema = tenantEntrySchema(cloud);
  const problems: TenantProblem[] = [];
  const parsed: TenantEntry[] = [];
  document.data.tenants.forEach((raw, index) => {
    const result = schema.safeParse(raw);
    if (result.success) {
      parsed.push(result.data);
      return;
    }
    const key = (raw as { key?: unknown } | null)?.key;
    const tenant = typeof key === 'string' && TENANT_KEY.test(key) ? key : `tenants[${index}]`;
    for (const issue of result.error.issues) {
      const path = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        for (const name of issue.keys)
          problems.push({ tenant, field: path ? `${path}.${name}` : name, message: 'is not a known field' });
      } else {
        problems.push({ tenant, field: path || '(entry)', message: describeIssue(issue) });
      }
    }
  });
  const counts = new Map<string, number>();
  for (const entry of parsed) counts.set(entry.key, (counts.get(entry.key) ?? 0) + 1);
  const invalidKeys = new Set(problems.map((p) => p.tenant));
  for (const [key, count] of counts) {
    if (count > 1)
      problems.push({ tenant: key, field: 'key', message: `is used by ${count} entries; keys must be unique` });
    if (count > 1 || invalidKeys.has(key)) invalidKeys.add(key);
  }
  return { tenants: parsed.filter((entry) => !invalidKeys.has(entry.key)), problems };
}

/** One line per problem, for logs and `cli tenants validate`. */
export function describeProblem(problem: TenantProblem): string {
  return `tenant ${problem.tenant}: ${problem.field}: ${problem.message}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return 'is required';
  return issue.message.replace(/^Invalid input: /, '');
}

/** Why `raw` cannot be a service origin: https (http only on loopback), no path or query, a host `hostProblem` takes. */
function originProblem(raw: string, hostProblem: (host: string) => string | undefined): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) return 'must use https://';
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    return 'give the origin only (scheme and host)';
  }
  return loopback ? undefined : hostProblem(url.hostname);
}
