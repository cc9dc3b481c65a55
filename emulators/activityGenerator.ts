// Deterministic generator of realistic MCAS activity records, for the emulator, tests and the demo.
// Shapes follow records published in public integrations (demisto/content MicrosoftCloudAppSecurity test data).
import { createHash } from 'node:crypto';

/** An activity as the API returns it: no schema is published, so it is a plain JSON object. */
export type RawActivity = Record<string, unknown>;

/** A pseudo-random source in [0, 1). */
export type Rng = () => number;

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenerateActivitiesOptions {
  count: number;
  /** `created` of the first record, epoch ms. */
  startCreatedMs: number;
  seed: number;
  /** A group of records sharing one `created` ms after every `tiesEvery - 1` single records. 0 = none. Default 10. */
  tiesEvery?: number;
  /** Largest tie group. The first tie group has exactly this size (when `count` allows). Default 5. */
  maxTie?: number;
  /** Rough distance between the first and last `created`, ms. Default `count * 1000`. */
  spanMs?: number;
}

/**
 * `count` activities with ascending `created` (ties included), deterministic for a given seed.
 * `timestamp` (event time) lags `created` (saved time) by 2 s to 15 min, as real records do.
 */
export function generateActivities(options: GenerateActivitiesOptions): RawActivity[] {
  const { count, startCreatedMs, seed } = options;
  const tiesEvery = options.tiesEvery ?? 10;
  const maxTie = Math.max(2, options.maxTie ?? 5);
  const meanStepMs = Math.max(1, (options.spanMs ?? count * 1000) / Math.max(1, count));
  const rng = createRng(seed);
  const activities: RawActivity[] = [];
  let createdMs = startCreatedMs;
  let singlesSinceTie = 0;
  let isFirstTie = true;
  while (activities.length < count) {
    let groupSize = 1;
    if (tiesEvery > 0 && singlesSinceTie >= tiesEvery - 1) {
      groupSize = isFirstTie ? maxTie : 2 + Math.floor(rng() * (maxTie - 1));
      isFirstTie = false;
      singlesSinceTie = 0;
    } else {
      singlesSinceTie += 1;
    }
    groupSize = Math.min(groupSize, count - activities.length);
    for (let k = 0; k < groupSize; k += 1) activities.push(generateActivity(activities.length, createdMs, rng));
    createdMs += 1 + Math.floor(rng() * 2 * meanStepMs);
  }
  return activities;
}

interface App {
  appId: number;
  appName: string;
  tag: string;
}

// Box (10489) and Salesforce (11114) ids are as remembered from the MCAS app catalogue, not verified.
const APPS: readonly App[] = [
  { appId: 11161, appName: 'Office 365', tag: 'O365' },
  { appId: 20893, appName: 'Microsoft Exchange Online', tag: 'EXCHANGE' },
  { appId: 20892, appName: 'Microsoft SharePoint Online', tag: 'SHAREPOINT' },
  { appId: 15600, appName: 'Microsoft OneDrive for Business', tag: 'ONEDRIVE' },
  { appId: 12260, appName: 'Microsoft Azure', tag: 'AZURE' },
  { appId: 11599, appName: 'Amazon Web Services', tag: 'AWS' },
  { appId: 10489, appName: 'Box', tag: 'BOX' },
  { appId: 11114, appName: 'Salesforce', tag: 'SALESFORCE' },
];

interface EventKind {
  eventTypeName: string;
  action: string;
  baseType: number;
  appIds: readonly number[];
  weight: number;
  severity: string;
  describe: (file: string, other: string) => { description: string; metadata: Record<string, string> };
}

const EVENT_KINDS: readonly EventKind[] = [
  {
    eventTypeName: 'EVENT_CATEGORY_LOGIN',
    action: 'LOGIN',
    baseType: 2293760,
    appIds: [11161, 20893, 12260, 11599, 10489, 11114],
    weight: 30,
    severity: 'INFO',
    describe: () => ({ description: 'Log on', metadata: { event_category: 'Log on', colon: '', dash: '' } }),
  },
  {
    eventTypeName: 'EVENT_CATEGORY_FAILED_LOGIN',
    action: 'LOGIN_FAILED',
    baseType: 2293761,
    appIds: [11161, 20893, 12260, 11599],
    weight: 8,
    severity: 'INFO',
    describe: () => ({
      description: 'Failed log on (Failure message: Error validating credentials due to invalid username or password.)',
      metadata: {
        event_category: 'Failed log on',
        activity_result_message: '(Failure message: Error validating credentials due to invalid username or password.)',
        colon: '',
        dash: '',
      },
    }),
  },
  {
    eventTypeName: 'EVENT_CATEGORY_DOWNLOAD_FILE',
    action: 'DOWNLOAD_FILE',
    baseType: 233600,
    appIds: [20892, 15600, 10489, 11114],
    weight: 20,
    severity: 'INFO',
    describe: (file) => ({
      description: `Download file: ${file}`,
      metadata: { event_category: 'Download file', target_object: file, colon: ':', dash: '' },
    }),
  },
  {
    eventTypeName: 'EVENT_CATEGORY_SHARE_FILE',
    action: 'SHARE_FILE',
    baseType: 233700,
    appIds: [20892, 15600, 10489],
    weight: 8,
    severity: 'LOW',
    describe: (file, other) => ({
      description: `Share file: ${file} with ${other}`,
      metadata: { event_category: 'Share file', target_object: file, target_user: other, colon: ':', dash: '' },
    }),
  },
  {
    eventTypeName: 'EVENT_CATEGORY_ACCEPT_SHARE_FILE',
    action: 'ACCEPT_SHARE',
    baseType: 233800,
    appIds: [20892, 15600],
    weight: 5,
    severity: 'INFO',
    describe: (file) => ({
      description: `Accept sharing invitation: ${file}`,
      metadata: { event_category: 'Accept sharing invitation', target_object: file, colon: ':', dash: '' },
    }),
  },
  {
    eventTypeName: 'EVENT_CATEGORY_UPDATE_PRIVILEGED_USER',
    action: 'ADD_ROLE_MEMBER',
    baseType: 2228224,
    appIds: [11161, 12260, 11599],
    weight: 3,
    severity: 'MEDIUM',
    describe: (_file, other) => ({
      description: `Add member to role: Global Administrator; ${other}`,
      metadata: { event_category: 'Add member to role', target_user: other, role: 'Global Administrator' },
    }),
  },
  {
    eventTypeName: 'EVENT_CATEGORY_DELETE_FILE',
    action: 'DELETE_FILE',
    baseType: 233900,
    appIds: [20892, 15600, 10489],
    weight: 5,
    severity: 'INFO',
    describe: (file) => ({
      description: `Delete file: ${file}`,
      metadata: { event_category: 'Delete file', target_object: file, colon: ':', dash: '' },
    }),
  },
  {
    eventTypeName: 'EVENT_CATEGORY_UNSPECIFIED',
    action: 'MAIL_ITEMS_ACCESSED',
    baseType: 2555904,
    appIds: [20893],
    weight: 15,
    severity: 'INFO',
    describe: () => ({ description: 'MailItemsAccessed', metadata: { event_category: 'MailItemsAccessed' } }),
  },
];

const TOTAL_WEIGHT = EVENT_KINDS.reduce((sum, kind) => sum + kind.weight, 0);

const USERS = [
  { userName: 'alex.wilber@contoso.example', displayName: 'Alex Wilber' },
  { userName: 'juergen.gross@contoso.example', displayName: 'Jürgen Groß' },
  { userName: 'yamada.taro@contoso.example', displayName: '山田 太郎' },
  { userName: 'zoe.lefevre@contoso.example', displayName: 'Zoë Lefèvre' },
  { userName: 'ana.nunez@contoso.example', displayName: 'Ana María Núñez' },
  { userName: 'svc-backup@contoso.example', displayName: 'Backup service 🤖' },
  { userName: 'partner_fabrikam.example#ext#@contoso.example', displayName: 'Partner Guest' },
] as const;

const FILES = [
  'Quartalsbericht Q3 – Übersicht.xlsx',
  '見積書_2024.pdf',
  'Roadmap 🚀.pptx',
  'payroll-2024-06.csv',
  'Board minutes.docx',
  'Ünïcødé notes.txt',
] as const;

const LOCATIONS = [
  { countryCode: 'US', city: 'seattle', region: 'washington', latitude: 47.6062, longitude: -122.3321, org: 'Contoso' },
  { countryCode: 'DE', city: 'münchen', region: 'bayern', latitude: 48.1374, longitude: 11.5755, org: 'Telekom' },
  { countryCode: 'JP', city: 'tokyo', region: 'tokyo', latitude: 35.6895, longitude: 139.6917, org: 'NTT' },
  {
    countryCode: 'NL',
    city: 'amsterdam',
    region: 'noord-holland',
    latitude: 52.309,
    longitude: 4.9402,
    org: 'eunetworks',
  },
  { countryCode: 'BR', city: 'são paulo', region: 'são paulo', latitude: -23.5505, longitude: -46.6333, org: 'Vivo' },
  {
    countryCode: 'DE',
    city: 'frankfurt am main',
    region: 'hessen',
    latitude: 50.1109,
    longitude: 8.6821,
    org: 'Amazon Web Services',
    isCloudProxy: true,
  },
] as const;

const AGENTS = [
  { family: 'CHROME', name: 'Chrome', os: 'Windows 10', osFamily: 'Windows', raw: ';Windows 10;Chrome 126.0;' },
  { family: 'EDGE', name: 'Edge', os: 'macOS', osFamily: 'OS X', raw: ';Mac OS X;Edge 125.0;' },
  {
    family: 'MICROSOFT_ONEDRIVE_FOR_BUSINESS',
    name: 'Microsoft OneDrive for Business',
    os: 'Unknown',
    osFamily: 'Unknown',
    raw: 'OneDriveMpc-Transform_Thumbnail/1.0',
  },
  { family: 'PYTHON_REQUESTS', name: 'Python Requests', os: 'Unknown', osFamily: 'Unknown', raw: ';;Python Requests;' },
] as const;

const TENANT_ID = 97134000;
const AAD_TENANT_ID = 'ebac1a16-81bf-449b-8d43-5732c3c1d999';
const MAX_LAG_MS = 15 * 60_000;
const ROLE_ASSIGNMENT_WRITE = 'Microsoft.Authorization/roleAssignments/write';

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

export function hex(rng: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += Math.floor(rng() * 16).toString(16);
  return out;
}

export function guid(rng: Rng): string {
  return `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-a${hex(rng, 3)}-${hex(rng, 12)}`;
}

function pickKind(rng: Rng): EventKind {
  let roll = rng() * TOTAL_WEIGHT;
  for (const kind of EVENT_KINDS) {
    roll -= kind.weight;
    if (roll < 0) return kind;
  }
  return EVENT_KINDS[0] as EventKind;
}

/** The `_id` formats seen in real records: ObjectId-like hex 24, sha256 hex 64, tenant_app_guid, and a bare GUID. */
function activityId(rng: Rng, createdMs: number, appId: number): string {
  const roll = rng();
  if (roll < 0.35)
    return (
      Math.floor(createdMs / 1000)
        .toString(16)
        .padStart(8, '0') + hex(rng, 16)
    );
  if (roll < 0.6) return hex(rng, 64);
  if (roll < 0.85) return `${TENANT_ID}_${appId}_${guid(rng)}`;
  return guid(rng);
}

interface RawContext {
  app: App;
  kind: EventKind;
  user: string;
  ip: string;
  eventIso: string;
}

/** The source app's own record. Several carry keys that differ only by case, as real ones do. */
function rawDataFor(rng: Rng, { app, kind, user, ip, eventIso }: RawContext): Record<string, unknown> {
  if (app.tag === 'AZURE') {
    return {
      EventName: 'EndRequest',
      eventName: kind.action.startsWith('LOGIN') ? 'Microsoft.Resources/deployments/read' : ROLE_ASSIGNMENT_WRITE,
      Level: 4,
      level: 'Informational',
      caller: user,
      callerIpAddress: ip,
      eventTimestamp: eventIso,
      correlationId: guid(rng),
    };
  }
  if (app.tag === 'AWS') {
    const eventName = kind.action.startsWith('LOGIN') ? 'ConsoleLogin' : 'AttachUserPolicy';
    return {
      eventName,
      EventName: eventName,
      eventSource: kind.action.startsWith('LOGIN') ? 'signin.amazonaws.com' : 'iam.amazonaws.com',
      awsRegion: 'us-east-1',
      sourceIPAddress: ip,
      eventTime: eventIso,
      userIdentity: { type: 'IAMUser', userName: user },
    };
  }
  const raw: Record<string, unknown> = {
    CreationTime: eventIso,
    Id: guid(rng),
    Operation: kind.action,
    OrganizationId: AAD_TENANT_ID,
    RecordType: 15,
    UserId: user,
    ClientIP: ip,
    Workload: app.tag === 'EXCHANGE' ? 'Exchange' : 'SharePoint',
  };
  if (rng() < 0.4) {
    raw.Level = 4;
    raw.level = 'Information';
  }
  return raw;
}

/** One activity with the given `created`, drawing everything else from `rng`. `index` varies the user and file. */
export function generateActivity(index: number, createdMs: number, rng: Rng): RawActivity {
  const kind = pickKind(rng);
  const appId = pick(rng, kind.appIds);
  const app = APPS.find((candidate) => candidate.appId === appId) as App;
  const user = USERS[(index + Math.floor(rng() * USERS.length)) % USERS.length] as (typeof USERS)[number];
  const other = pick(rng, USERS);
  const file = FILES[(index * 7 + Math.floor(rng() * FILES.length)) % FILES.length] as string;
  const location = pick(rng, LOCATIONS);
  const agent = pick(rng, AGENTS);
  const lagMs = 2000 + Math.floor(rng() ** 3 * MAX_LAG_MS);
  const timestampMs = createdMs - lagMs;
  const eventIso = new Date(timestampMs).toISOString();
  // Documentation address ranges only (RFC 5737, RFC 3849).
  const ip =
    rng() < 0.85
      ? `${pick(rng, ['203.0.113', '198.51.100', '192.0.2'])}.${1 + Math.floor(rng() * 254)}`
      : `2001:db8::${hex(rng, 4)}`;
  const isFailedLogin = kind.action === 'LOGIN_FAILED';
  const hasFile = kind.action.includes('FILE') || kind.action === 'ACCEPT_SHARE';
  const eventTypeValue =
    kind.action.startsWith('LOGIN') && (app.tag === 'O365' || app.tag === 'EXCHANGE')
      ? `EVENT_AAD_${kind.action}`
      : `EVENT_${app.tag}_${kind.action}`;
  const { description, metadata } = kind.describe(file, other.userName);
  const id = activityId(rng, createdMs, appId);
  const actor = {
    governable: false,
    id: user.userName,
    instanceId: '0',
    name: user.displayName,
    objType: '21',
    resolved: rng() < 0.8,
    role: '4',
    saasId: String(appId),
    tags: ['000000200000000000000000'],
  };
  const entity = { displayName: user.displayName, id: { id: user.userName, inst: 0, saas: 11161 }, resolved: true };
  const entityData = rng() < 0.5 ? { '0': entity, '1': null, '2': null } : [entity];
  const activity: RawActivity = {
    _id: id,
    tenantId: TENANT_ID,
    aadTenantId: AAD_TENANT_ID,
    appId,
    saasId: appId,
    appName: app.appName,
    timestamp: timestampMs,
    timestampRaw: timestampMs,
    instantiation: createdMs - Math.floor(lagMs / 4),
    created: createdMs,
    createdRaw: createdMs,
    eventType: kind.baseType + APPS.indexOf(app),
    eventTypeName: kind.eventTypeName,
    eventTypeValue,
    description,
    description_id: `EVENT_DESCRIPTION_${kind.action}`,
    description_metadata: metadata,
    severity: kind.severity,
    resolvedActor: actor,
    device: { clientIP: ip, countryCode: location.countryCode, userAgent: agent.raw },
    location: {
      countryCode: location.countryCode,
      city: location.city,
      region: location.region,
      latitude: location.latitude,
      longitude: location.longitude,
      organizationSearchable: location.org,
      anonymousProxy: false,
      isSatelliteProvider: false,
      category: 'isCloudProxy' in location ? 5 : 0,
      categoryValue: 'isCloudProxy' in location ? 'CLOUD_PROXY_NETWORK_IP' : 'NONE',
    },
    userAgent: {
      family: agent.family,
      name: agent.name,
      deviceType: agent.osFamily === 'Unknown' ? 'OTHER' : 'DESKTOP',
      operatingSystem: { family: agent.osFamily, name: agent.os },
      nativeBrowser: false,
      tags: [],
    },
    mainInfo: {
      activityResult: isFailedLogin
        ? { isSuccess: false, message: 'Error validating credentials' }
        : { isSuccess: true },
      eventObjects: [
        { id: guid(rng), name: app.appName, objType: 6, role: 1, tags: [] },
        { id: user.userName, name: user.displayName, objType: 21, role: 4, resolved: true, tags: [] },
        ...(hasFile ? [{ id: guid(rng), name: file, objType: 1, role: 3, tags: [] }] : []),
      ],
      prettyOperationName: kind.action,
      rawOperationName: kind.action,
      type: isFailedLogin ? 'failedLogin' : 'event',
    },
    entityData,
    rawDataJson: rawDataFor(rng, { app, kind, user: user.userName, ip, eventIso }),
    uid: createHash('sha256').update(id).digest('hex'),
  };
  addSampleDetail(activity, { app, kind, user: user.userName, displayName: user.displayName, ip, eventIso, file });
  // Failed logons have no `user.userName`; the attempted name is in `failedUserData`.
  if (isFailedLogin) {
    activity.user = { userTags: ['000000200000000000000000'] };
    activity.failedUserData = { userName: user.userName };
  } else {
    activity.user = { userName: user.userName, userTags: ['000000200000000000000000'] };
  }
  return activity;
}

/** A seed for the detail of one record, from its `_id` (FNV-1a), so that detail draws leave `rng`'s sequence alone. */
function detailSeed(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

interface DetailContext extends RawContext {
  displayName: string;
  file: string;
}

/**
 * The rest of what real records carry, so that generated activities are as large and as nested as the public samples
 * (test/fixtures/activities/, 4-4.5 KB of compact JSON for a logon or a file event): routing and collection metadata,
 * the parsed user agent in full, the resolved actor, a request id and parameters among the event objects, and the
 * source app's audit record with the fields Office 365, Entra ID sign-ins, Azure and AWS put in it. Drawn from a second
 * generator seeded by the record's `_id`, so the fields above keep the values they had before this detail was added.
 */
function addSampleDetail(activity: RawActivity, context: DetailContext): void {
  const rng = createRng(detailSeed(String(activity._id)));
  const { app, kind, user, displayName, ip, eventIso, file } = context;
  const isLogin = kind.action.startsWith('LOGIN');
  const createdMs = activity.created as number;
  const requestId = guid(rng);
  const correlationId = guid(rng);
  const objectId = guid(rng);
  activity.instantiationRaw = activity.instantiation;
  activity.eventRouting = { scubaUnpacker: false, lograbber: true, auditing: true, dispersed: rng() < 0.5 };
  activity.internals = { otherIPs: [ip] };
  activity.confidenceLevel = isLogin ? 30 : 20;
  activity.source = 2;
  activity.srcAppId = 11161;
  activity.lograbberService = { o365EventGrabber: !isLogin, gediEvent: !isLogin, scubaUnpacker: isLogin };
  activity.classifications = isLogin ? ['access'] : [];
  activity.genericEventType = `ENUM_ACTIVITY_GENERIC_TYPE_${isLogin ? kind.action : 'BASIC'}`;
  activity.collected = isLogin
    ? {
        aadLogins: {
          MCAS_Router: false,
          correlationId,
          enqueueTime: createdMs - 22_000,
          routingTime: createdMs - 21_900,
        },
      }
    : {
        o365: {
          blobCreated: new Date(createdMs - 60_000).toISOString(),
          blobId: `${hex(rng, 20)}$${hex(rng, 20)}$audit_${app.tag.toLowerCase()}$Audit_${app.tag}$emea00${hex(rng, 2)}`,
        },
      };
  const location = activity.location as Record<string, unknown>;
  location.regionCode = String(location.region).slice(0, 2).toUpperCase();
  location.postalCode = String(10_000 + Math.floor(rng() * 89_999));
  location.carrier = 'example carrier';
  const userAgent = activity.userAgent as Record<string, unknown>;
  userAgent.type = userAgent.deviceType === 'OTHER' ? 'Application' : 'Browser';
  userAgent.typeName = userAgent.type;
  userAgent.os = userAgent.deviceType === 'OTHER' ? 'OTHER' : 'WINDOWS';
  userAgent.browser = userAgent.family;
  const link = -162_371_000 - Math.floor(rng() * 1000);
  const mainInfo = activity.mainInfo as { eventObjects: Record<string, unknown>[] };
  mainInfo.eventObjects.push(
    { id: requestId, name: 'Request ID', objType: 7, role: 3, tags: [] },
    { name: 'Pass-through authentication', objType: 7, role: 3, tags: [], value: 'false' },
    {
      governable: false,
      id: objectId,
      instanceId: 0,
      link,
      name: displayName,
      objType: 23,
      resolved: true,
      role: 4,
      saasId: 11161,
      tags: ['5f01dbbc68df27c17aa6ca81'],
    },
  );
  for (const object of mainInfo.eventObjects) if (object.objType === 21) object.link = link;
  const entityData = activity.entityData as Record<string, unknown> | unknown[];
  const second = { displayName, id: { id: objectId, inst: 0, saas: 11161 }, resolved: true };
  if (Array.isArray(entityData)) entityData.push(second);
  else entityData['2'] = second;
  const raw = activity.rawDataJson as Record<string, unknown>;
  if (isLogin) {
    Object.assign(raw, {
      ApplicationId: '00000002-0000-0ff1-ce00-000000000000',
      ApplicationName: 'Office 365 Exchange Online',
      BrowserId: null,
      Call: 'OAuth2:Token',
      CorrelationId: correlationId,
      DataSource: null,
      DeviceInfo: (activity.device as { userAgent: string }).userAgent,
      DeviceTrustType: '',
      EventType: 'MCASLoginEvent',
      HomeTenantUserObjectId: objectId,
      IpAddress: ip,
      IsDeviceCompliantAndManaged: false,
      IsInteractive: null,
      IsInteractiveComputed: true,
      LoginErrorCode: kind.action === 'LOGIN_FAILED' ? 50126 : 0,
      LoginStatus: kind.action === 'LOGIN_FAILED' ? 'Failure' : 'Success',
      MfaRequired: rng() < 0.5,
      MfaResult: null,
      MsodsTenantRegionScope: 'EU',
      RequestId: requestId,
      TenantId: AAD_TENANT_ID,
      TimeStamp: eventIso,
      Upn: user,
      UserIsPassthru: false,
      UserPrincipalObjectID: objectId,
    });
  } else if (app.tag === 'AZURE' || app.tag === 'AWS') {
    // Azure Activity Log and CloudTrail records: the request's parameters and the service's answer.
    Object.assign(raw, {
      [app.tag === 'AZURE' ? 'properties' : 'requestParameters']: {
        requestbody: JSON.stringify({ properties: { roleDefinitionId: guid(rng), principalId: objectId } }),
        statusCode: 'Created',
        serviceRequestId: requestId,
        eventCategory: 'Administrative',
        entity: `/subscriptions/${guid(rng)}/resourceGroups/rg-${hex(rng, 6)}/providers/Microsoft.Compute/virtualMachines/vm-${hex(rng, 4)}`,
        message: kind.action,
        hierarchy: `${AAD_TENANT_ID}/${guid(rng)}`,
      },
      [app.tag === 'AZURE' ? 'claims' : 'responseElements']: {
        aud: 'https://management.core.windows.net/',
        iss: `https://sts.windows.net/${AAD_TENANT_ID}/`,
        appid: guid(rng),
        ipaddr: ip,
        name: displayName,
        oid: objectId,
        puid: hex(rng, 16).toUpperCase(),
        upn: user,
        uti: hex(rng, 22),
        ver: '1.0',
      },
      operationId: correlationId,
      resourceProviderName: { value: 'Microsoft.Authorization', localizedValue: 'Microsoft Authorization' },
      status: { value: 'Succeeded', localizedValue: 'Succeeded' },
    });
  } else {
    const site = `https://contoso-my.sharepoint.com/personal/${user.split('@')[0]?.replace(/[^a-z0-9]/gi, '_') ?? 'user'}/`;
    Object.assign(raw, {
      UserType: 0,
      UserKey: `i:0h.f|membership|${hex(rng, 16)}@live.com`,
      Version: 1,
      ObjectId: `${site}Documents/${file}`,
      CorrelationId: correlationId,
      ListItemUniqueId: guid(rng),
      EventSource: 'SharePoint',
      SourceFileExtension: file.slice(file.lastIndexOf('.') + 1),
      UserAgent: (activity.device as { userAgent: string }).userAgent,
      SourceRelativeUrl: 'Documents',
      ItemType: 'File',
      SourceFileName: file,
      ApplicationId: guid(rng),
      ListId: guid(rng),
      WebId: guid(rng),
      SiteUrl: site,
      Site: guid(rng),
      DoNotDistributeEvent: true,
      AuthenticationType: 'OAuth',
      IsManagedDevice: false,
    });
  }
}
