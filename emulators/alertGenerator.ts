// Deterministic generator of realistic MCAS alert records, for the emulator, tests and the demo. Shapes follow
// Microsoft's api-alerts properties table and list example (test/fixtures/alerts/README.md); values are invented.
import { createRng, guid, hex, pick, type Rng } from './activityGenerator.js';

/** An alert as the API returns it: a plain JSON object. */
export type RawAlert = Record<string, unknown>;

export interface GenerateAlertsOptions {
  count: number;
  /** `timestamp` of the first alert, epoch ms. */
  startMs: number;
  seed: number;
  /** Rough distance between the first and last `timestamp`, ms. Default `count * 60_000`. */
  spanMs?: number;
  /** Every `tiesEvery`-th alert shares the previous one's `timestamp` (raised together). 0 = none. Default 7. */
  tiesEvery?: number;
}

/** `count` alerts with ascending `timestamp` (ties included), unique 24-hex `_id`s, deterministic for a seed. */
export function generateAlerts(options: GenerateAlertsOptions): RawAlert[] {
  const { count, startMs, seed } = options;
  const tiesEvery = options.tiesEvery ?? 7;
  const meanStepMs = Math.max(1, (options.spanMs ?? count * 60_000) / Math.max(1, count));
  const rng = createRng(seed);
  const alerts: RawAlert[] = [];
  let timestampMs = startMs;
  for (let index = 0; index < count; index += 1) {
    const isTie = index > 0 && tiesEvery > 0 && index % tiesEvery === 0;
    if (index > 0 && !isTie) timestampMs += 1 + Math.floor(rng() * 2 * meanStepMs);
    alerts.push(generateAlert(index, timestampMs, rng));
  }
  return alerts;
}

interface Person {
  upn: string;
  displayName: string;
}

const PEOPLE: readonly Person[] = [
  { upn: 'alex.wilber@contoso.example', displayName: 'Alex Wilber' },
  { upn: 'juergen.gross@contoso.example', displayName: 'Jürgen Groß' },
  { upn: 'yamada.taro@contoso.example', displayName: '山田 太郎' },
  { upn: 'zoe.lefevre@contoso.example', displayName: 'Zoë Lefèvre' },
  { upn: 'ana.nunez@contoso.example', displayName: 'Ana María Núñez' },
];

// Country entities as seen in public samples ({ type: 'country', id, label }).
const COUNTRIES = [
  { code: 'US', name: 'United States' },
  { code: 'DE', name: 'Germany' },
  { code: 'JP', name: 'Japan' },
  { code: 'BR', name: 'Brazil' },
  { code: 'KP', name: 'North Korea' },
] as const;

// App ids from the MCAS PowerShell module's mcas_app enum.
const APPS = {
  office365: { id: 11161, label: 'Office 365' },
  exchange: { id: 20893, label: 'Microsoft Exchange Online' },
  sharePoint: { id: 20892, label: 'Microsoft SharePoint Online' },
  oneDrive: { id: 15600, label: 'Microsoft OneDrive for Business' },
  box: { id: 10489, label: 'Box' },
} as const;

const FILES = ['Quartalsbericht Q3 – Übersicht.xlsx', '見積書_2024.pdf', 'Roadmap 🚀.pptx', 'payroll-2024-06.csv'];

// Codes from the api-alerts properties table: severityValue, stories, intent.
const LOW = 0;
const MEDIUM = 1;
const HIGH = 2;
const INFORMATIONAL = 3;
const THREAT_DETECTION = 0;
const DLP = 3;
const INITIAL_ACCESS = 2;
const PERSISTENCE = 3;
const COLLECTION = 10;
const EXFILTRATION = 11;
const IMPACT = 13;

interface AlertContext {
  rng: Rng;
  person: Person;
  ip: string;
  file: string;
}

interface AlertKind {
  title: (context: AlertContext) => string;
  description: (context: AlertContext) => string;
  severities: readonly number[];
  stories: readonly number[];
  intent: readonly number[];
  policyType: string;
  /** Entities besides the account, the ip and the policy. */
  entities: (context: AlertContext) => Record<string, unknown>[];
  evidence: (context: AlertContext) => string[];
}

const KINDS: readonly AlertKind[] = [
  {
    title: () => 'Impossible travel activity',
    description: ({ person, ip }) =>
      `The user <b>${person.displayName}</b> performed activities from ${ip} and from a distant country ` +
      'within a time shorter than the expected travel time.',
    severities: [HIGH, MEDIUM],
    stories: [THREAT_DETECTION],
    intent: [INITIAL_ACCESS],
    policyType: 'ANOMALY_DETECTION',
    entities: ({ rng }) => {
      const [first, second] = twoCountries(rng);
      return [country(first), country(second), service(APPS.office365)];
    },
    evidence: ({ ip }) => [`Activity from ${ip}`, 'Activity from a second country 40 minutes later'],
  },
  {
    title: () => 'Mass download by a single user',
    description: ({ person, file }) => `${person.displayName} downloaded 312 files in 5 minutes, including ${file}.`,
    severities: [MEDIUM, LOW],
    stories: [THREAT_DETECTION, DLP],
    intent: [COLLECTION, EXFILTRATION],
    policyType: 'ANOMALY_DETECTION',
    entities: ({ rng, file }) => [service(APPS.sharePoint), fileEntity(rng, file), fileEntity(rng, FILES[0] as string)],
    evidence: () => ['312 files downloaded in 5 minutes', 'Baseline for this user: 4 files per day'],
  },
  {
    title: () => 'Ransomware activity',
    description: ({ person, file }) =>
      `${person.displayName} uploaded files renamed to a ransomware extension, e.g. ${file}.locky.`,
    severities: [HIGH],
    stories: [THREAT_DETECTION],
    intent: [IMPACT],
    policyType: 'ANOMALY_DETECTION',
    entities: ({ rng, file }) => [service(APPS.oneDrive), fileEntity(rng, `${file}.locky`)],
    evidence: () => ['57 files renamed to a known ransomware extension'],
  },
  {
    title: () => 'Activity from infrequent country',
    description: ({ person, ip }) => `${person.displayName} signed in from ${ip}, a country not seen for 90 days.`,
    severities: [MEDIUM, LOW, INFORMATIONAL],
    stories: [THREAT_DETECTION],
    intent: [INITIAL_ACCESS],
    policyType: 'ANOMALY_DETECTION',
    entities: ({ rng }) => [country(pick(rng, COUNTRIES)), service(APPS.office365)],
    evidence: ({ ip }) => [`First activity from ${ip} in 90 days`],
  },
  {
    title: () => 'Suspicious inbox forwarding',
    description: ({ person }) =>
      `A rule forwarding all mail to archive@fabrikam.example was set on the mailbox of ${person.displayName}.`,
    severities: [MEDIUM, HIGH],
    stories: [THREAT_DETECTION],
    intent: [PERSISTENCE, COLLECTION, EXFILTRATION],
    policyType: 'ANOMALY_DETECTION',
    entities: () => [service(APPS.exchange)],
    evidence: () => ['New-InboxRule with ForwardTo archive@fabrikam.example'],
  },
  {
    // A customer's own file policy, named in the customer's language.
    title: ({ rng }) => pick(rng, ['Richtlinie „Vertrauliche Dateien“ ausgelöst', '機密ファイルの外部共有 🔒']),
    description: ({ file }) => `File policy matched by '${file}'`,
    severities: [LOW, MEDIUM],
    stories: [DLP],
    intent: [EXFILTRATION],
    policyType: 'FILE',
    entities: ({ rng, file }) => [service(APPS.box), fileEntity(rng, file)],
    evidence: ({ file }) => [`${file} shared with an external domain`],
  },
];

const TENANT_HOST = 'contoso.portal.cloudappsecurity.com';
const AAD_TENANT_ID = 'ebac1a16-81bf-449b-8d43-5732c3c1d999';

/** One alert raised at `timestampMs`, drawing everything else from `rng`. `index` varies the kind and the person. */
export function generateAlert(index: number, timestampMs: number, rng: Rng): RawAlert {
  const kind = KINDS[(index + Math.floor(rng() * KINDS.length)) % KINDS.length] as AlertKind;
  const person = PEOPLE[(index * 3 + Math.floor(rng() * PEOPLE.length)) % PEOPLE.length] as Person;
  // Documentation address ranges only (RFC 5737, RFC 3849).
  const ip =
    rng() < 0.85
      ? `${pick(rng, ['203.0.113', '198.51.100', '192.0.2'])}.${1 + Math.floor(rng() * 254)}`
      : `2001:db8::${hex(rng, 4)}`;
  const context: AlertContext = { rng, person, ip, file: pick(rng, FILES) };
  const id =
    Math.floor(timestampMs / 1000)
      .toString(16)
      .padStart(8, '0')
      .slice(-8) + hex(rng, 16);
  const title = kind.title(context);
  const roll = rng();
  const isResolved = roll < 0.3;
  return {
    _id: id,
    contextId: AAD_TENANT_ID,
    timestamp: timestampMs,
    title,
    description: kind.description(context),
    isMarkdown: kind.policyType === 'ANOMALY_DETECTION',
    severityValue: pick(rng, kind.severities),
    statusValue: isResolved ? 1 : pick(rng, [0, 0, 1]),
    resolutionStatusValue: isResolved ? pick(rng, [3, 4, 5, 5]) : 0,
    entities: [
      {
        entityRole: 'Source',
        entityType: 2,
        id: guid(rng),
        inst: 0,
        label: person.displayName,
        pa: person.upn,
        saas: APPS.office365.id,
        type: 'account',
      },
      { id: ip, label: ip, type: 'ip', triggeredAlert: true },
      ...kind.entities(context),
      { id: hex(rng, 24), label: title, policyType: kind.policyType, type: 'policyRule' },
    ],
    stories: [...kind.stories],
    evidence: kind.evidence(context),
    intent: [...kind.intent],
    isPreview: rng() < 0.1,
    threatScore: Math.floor(rng() * 101),
    idValue: 15_728_640 + index,
    isSystemAlert: false,
    ...(isResolved ? resolution(timestampMs) : {}),
    URL: `https://${TENANT_HOST}/#/alerts/${id}`,
  };
}

/** The fields a closed alert carries (api-alerts-list example). */
function resolution(timestampMs: number): Record<string, unknown> {
  return { resolveTime: new Date(timestampMs + 3_600_000).toISOString(), handledByUser: 'soc.analyst@contoso.example' };
}

function twoCountries(rng: Rng): [(typeof COUNTRIES)[number], (typeof COUNTRIES)[number]] {
  const first = Math.floor(rng() * COUNTRIES.length);
  const second = (first + 1 + Math.floor(rng() * (COUNTRIES.length - 1))) % COUNTRIES.length;
  return [COUNTRIES[first] as (typeof COUNTRIES)[number], COUNTRIES[second] as (typeof COUNTRIES)[number]];
}

function country(entry: { code: string; name: string }): Record<string, unknown> {
  return { id: entry.code, label: entry.name, type: 'country' };
}

function service(app: { id: number; label: string }): Record<string, unknown> {
  return { id: app.id, label: app.label, type: 'service' };
}

/** File ids are "<drive id>|<item id>" in public samples. */
function fileEntity(rng: Rng, name: string): Record<string, unknown> {
  return { id: `${guid(rng)}|${guid(rng)}`, label: name, type: 'file' };
}
