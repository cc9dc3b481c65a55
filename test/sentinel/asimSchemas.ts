// The ASIM schemas the MCAS parsers normalize to: each field's type, class (Mandatory, Recommended, Conditional,
// Optional, Alias) and, where the schema enumerates them, its allowed values. Facts taken from Azure/Azure-Sentinel
// `ASIM/dev/ASimTester/ASimTester.csv` (the field list the ASIM schema tester checks parsers against), for the four
// schemas used here; the Threat*, Rule* and Scope fields that the MCAS records cannot fill are left out, and the
// CSV's few type typos (`IP address`, `City` as a type) are read as string. Schema versions as Azure-Sentinel's
// `.script/tests/asimParsersTest/VerifyASimParserTemplate.py` expects them.

export type AsimClass = 'Mandatory' | 'Recommended' | 'Conditional' | 'Optional' | 'Alias';

export interface AsimField {
  name: string;
  type: string;
  class: AsimClass;
  /** Enumerated values, when the schema lists them. */
  allowed: readonly string[];
  /** For an alias: the field it stands for; for a conditional field: the field it goes with. */
  relatedTo: string;
}

export interface AsimSchema {
  name: string;
  version: string;
  /** The schema's documentation link, as the parser template validator wants it in References. */
  title: string;
  link: string;
  fields: ReadonlyMap<string, AsimField>;
}

// name,type,class,allowed values (|-separated),related field
const COMMON = `
TimeGenerated,datetime,Mandatory,,
Type,string,Mandatory,,
EventMessage,string,Optional,,
EventCount,int,Mandatory,,
EventStartTime,datetime,Mandatory,,
EventEndTime,datetime,Mandatory,,
EventResult,string,Mandatory,Success|Partial|Failure|NA,
EventOriginalResultDetails,string,Optional,,
EventOriginalSeverity,string,Optional,,
EventOriginalSubType,string,Optional,,
EventOriginalType,string,Optional,,
EventOriginalUid,string,Optional,,
EventUid,string,Recommended,,
EventOwner,string,Optional,,
EventProductVersion,string,Optional,,
EventReportUrl,string,Optional,,
EventSchemaVersion,string,Mandatory,,
AdditionalFields,dynamic,Optional,,
DvcDescription,string,Optional,,
DvcInterface,string,Optional,,
DvcOriginalAction,string,Optional,,
DvcOs,string,Optional,,
DvcOsVersion,string,Optional,,
DvcMacAddr,string,Optional,,
DvcZone,string,Optional,,
DvcScopeId,string,Optional,,
DvcScope,string,Optional,,
IpAddr,string,Alias,,SrcIpAddr
`;

/** Fields the four schemas here define alike. */
const SHARED = `
DvcAction,string,Recommended,,
DvcDomain,string,Recommended,,
DvcHostname,string,Recommended,,
DvcIpAddr,string,Recommended,,
ActingAppId,string,Optional,,
ActingAppType,string,Optional,Process|Service|Resource|URL|SaaS application|CSP|Other,
ActorOriginalUserType,string,Optional,,
ActorSessionId,string,Optional,,
ActorUserIdType,string,Conditional,SID|UID|AADID|OktaId|AWSId|PUID|SalesforceId|VectraUserId|MD4IoTid|Other,ActorUserId
ActorUsernameType,string,Conditional,UPN|Windows|DN|Simple,ActorUsername
HttpUserAgent,string,Optional,,
SrcDeviceType,string,Optional,Computer|Mobile Device|IOT Device|Other,
SrcFQDN,string,Optional,,
SrcGeoCity,string,Optional,,
SrcGeoCountry,string,Optional,,
SrcGeoLatitude,real,Optional,,
SrcGeoLongitude,real,Optional,,
SrcGeoRegion,string,Optional,,
SrcIpAddr,string,Recommended,,
`;

const AUTHENTICATION = `
EventType,string,Mandatory,Logon|Logoff|Elevate,
EventSubType,string,Optional,System|Interactive|RemoteInteractive|Service|RemoteService|Remote|AssumeRole,
EventResultDetails,string,Recommended,No such user or password|Incorrect password|Account expired|Password expired|User locked|User disabled|Logon violates policy|Session expired|No such user|Incorrect key|Other,
EventSeverity,string,Recommended,Informational|Low|Medium|High,
EventVendor,string,Mandatory,Salesforce|AWS|Barracuda|Cisco|Microsoft|Okta|PostgreSQL|OpenBSD|Linux|Vectra|SentinelOne|CrowdStrike,
EventSchema,string,Mandatory,Authentication,
Dvc,string,Mandatory,,
DvcDomainType,string,Conditional,Windows|FQDN|ResourceGroup,DvcDomain
DvcFQDN,string,Optional,,
DvcId,string,Optional,,
DvcIdType,string,Conditional,AzureResourceId|MDEid|MD4IoTid|VMConnectionId|AwsVpcId|VectraId|AppGateId|Other,DvcId
Src,string,Recommended,,
Dst,string,Recommended,,
ActingAppName,string,Optional,,
ActorUserId,string,Optional,,
ActorUsername,string,Optional,,
ActorUserType,string,Optional,Regular|Guest|Machine|Admin|System|Application|Service|Other,
Application,string,Alias,,TargetAppName
LogonMethod,string,Optional,,
LogonProtocol,string,Optional,,
LogonTarget,string,Optional,,
SrcDomain,string,Optional,,
SrcDomainType,string,Conditional,Windows|FQDN|ResourceGroup,SrcDomain
SrcDvcId,string,Optional,,
SrcDvcOs,string,Optional,,
SrcHostname,string,Optional,,
SrcIsp,string,Optional,,
SrcOriginalRiskLevel,string,Optional,,
SrcPortNumber,int,Optional,,
SrcRiskLevel,int,Optional,,
TargetAppId,string,Optional,,
TargetAppName,string,Optional,,
TargetAppType,string,Conditional,Process|Service|Resource|URL|SaaS application|Other,TargetAppName
TargetDescription,string,Optional,,
TargetDeviceType,string,Optional,Computer|Mobile Device|IOT Device|Other,
TargetDomain,string,Recommended,,
TargetDomainType,string,Conditional,Windows|FQDN|ResourceGroup,TargetDomain
TargetDvcId,string,Optional,,
TargetFQDN,string,Optional,,
TargetGeoCity,string,Optional,,
TargetGeoCountry,string,Optional,,
TargetHostname,string,Recommended,,
TargetIpAddr,string,Optional,,
TargetOriginalUserType,string,Optional,,
TargetPortNumber,int,Optional,,
TargetSessionId,string,Optional,,
TargetUrl,string,Optional,,
TargetUserId,string,Optional,,
TargetUserIdType,string,Conditional,SID|UID|AADID|OktaId|AWSId|PUID|SalesforceId|VectraUserId|MD4IoTid|Other,TargetUserId
TargetUsername,string,Optional,,
TargetUsernameType,string,Conditional,UPN|Windows|DN|Simple,TargetUsername
TargetUserType,string,Optional,Regular|Guest|Machine|Admin|System|Application|Service|Other,
User,string,Optional,,
`;

const FILE_EVENT = `
EventType,string,Mandatory,FileAccessed|FileCreated|FileModified|FileDeleted|FileRenamed|FileCopied|FileMoved|FolderCreated|FolderDeleted|FolderMoved|FolderCopied|FolderModified|FileCreatedOrModified|FileAttributesUpdated,
EventSubType,string,Optional,Upload|Checkin|Download|Preview|Checkout|Extended|Recycle|Versions|Site,
EventResultDetails,string,Optional,,
EventSeverity,string,Recommended,Informational|Low|Medium|High,
EventVendor,string,Mandatory,Microsoft|SentinelOne|VMware,
EventSchema,string,Mandatory,FileEvent,
Dvc,string,Optional,,
DvcDomainType,string,Conditional,Windows|FQDN,DvcDomain
DvcFQDN,string,Optional,,
DvcId,string,Optional,,
DvcIdType,string,Conditional,AzureResourceId|MDEid|MD4IoTid|VMConnectionId|AwsVpcId|VectraId|AppGateId|Other,DvcId
Src,string,Optional,,
ActingAppName,string,Optional,,
ActorUserId,string,Recommended,,
ActorUsername,string,Mandatory,,
ActorUserType,string,Optional,Regular|Guest|Machine|Admin|System|Application|Service|Other,
Application,string,Alias,,TargetAppName
FileName,string,Alias,,TargetFileName
FilePath,string,Alias,,TargetFilePath
NetworkApplicationProtocol,string,Optional,,
SrcDomain,string,Optional,,
SrcFilePath,string,Recommended,,
SrcFilePathType,string,Recommended,Windows Local|Windows Share|Unix|URL,
SrcFileName,string,Optional,,
SrcHostname,string,Optional,,
SrcPortNumber,int,Optional,,
TargetAppId,string,Optional,,
TargetAppName,string,Optional,,
TargetAppType,string,Conditional,Process|Service|Resource|URL|SaaS application|Other,TargetAppName
TargetFileCreationTime,datetime,Optional,,
TargetFileDirectory,string,Optional,,
TargetFileExtension,string,Optional,,
TargetFileMimeType,string,Optional,,
TargetFileName,string,Optional,,
TargetFilePath,string,Optional,,
TargetFilePathType,string,Mandatory,Windows Local|Windows Share|Unix|URL,
TargetFileSize,long,Optional,,
TargetUrl,string,Optional,,
Url,string,Alias,,TargetUrl
User,string,Alias,,ActorUsername
`;

const AUDIT_EVENT = `
EventType,string,Mandatory,Set|Read|Create|Delete|Execute|Install|Clear|Enable|Disable|Initialize|Start|Stop|Terminate|Other,
EventSubType,string,Optional,,
EventResultDetails,string,Recommended,,
EventSeverity,string,Recommended,Informational|Low|Medium|High,
EventVendor,string,Mandatory,Microsoft|AWS|Barracuda|Cisco|Dataminr|Vectra,
EventSchema,string,Mandatory,AuditEvent,
Dvc,string,Mandatory,,
DvcDomainType,string,Conditional,Windows|FQDN,DvcDomain
DvcFQDN,string,Optional,,
DvcId,string,Optional,,
DvcIdType,string,Conditional,AzureResourceId|MDEid|MD4IoTid|VMConnectionId|AwsVpcId|Other,DvcId
Src,string,Recommended,,
Dst,string,Recommended,,
ActingAppName,string,Optional,,
ActorUserAadId,string,Optional,,
ActorUserId,string,Optional,,
ActorUsername,string,Recommended,,
ActorUserType,string,Optional,Regular|Guest|Machine|Admin|System|Application|Service|Other,
Application,string,Alias,,TargetAppName
NewValue,string,Recommended,,
Object,string,Recommended,,
ObjectId,string,Recommended,,
ObjectType,string,Recommended,Configuration Atom|Policy Rule|Event Log|Scheduled Task|Service|Directory Service Object|Other,
OldValue,string,Optional,,
Operation,string,Mandatory,,
SrcDomain,string,Optional,,
SrcHostname,string,Optional,,
SrcPortNumber,int,Optional,,
TargetAppId,string,Optional,,
TargetAppName,string,Optional,,
TargetAppType,string,Conditional,Process|Service|Resource|URL|SaaS application|Other,TargetAppName
TargetHostname,string,Recommended,,
TargetIpAddr,string,Recommended,,
TargetUrl,string,Optional,,
User,string,Alias,,ActorUsername
Value,string,Alias,,NewValue
ValueType,string,Optional,Other,
`;

const USER_MANAGEMENT = `
EventType,string,Mandatory,UserCreated|UserDeleted|UserModified|UserLocked|UserUnlocked|UserDisabled|UserEnabled|PasswordChanged|PasswordReset|GroupCreated|GroupDeleted|GroupModified|UserAddedToGroup|UserRemovedFromGroup|GroupEnumerated|UserRead|GroupRead,
EventSubType,string,Optional,UserRead|UserCreated|GroupCreated|UserModified|GroupModified|password|shell|GID|expiration|UID,
EventResultDetails,string,Recommended,NotAuthorized|Other,
EventSeverity,string,Mandatory,Informational|Low|Medium|High,
EventVendor,string,Mandatory,Microsoft|Linux|Cisco|SentinelOne,
EventSchema,string,Mandatory,UserManagement,
Dvc,string,Mandatory,,
DvcDomainType,string,Conditional,Windows|FQDN,DvcDomain
DvcFQDN,string,Recommended,,
DvcId,string,Recommended,,
DvcIdType,string,Recommended,AzureResourceId|MDEid|MD4IoTid|VMConnectionId|AwsVpcId|VectraId|AppGateId|Other,
Src,string,Recommended,,
ActiveAppName,string,Optional,,
ActorUserId,string,Optional,,
ActorUsername,string,Mandatory,,
ActorUserType,string,Optional,Regular|Machine|Admin|System|Application|Service Principal|Other,
GroupId,string,Optional,,
GroupIdType,string,Optional,SID|UID,
GroupName,string,Optional,,
GroupNameType,string,Optional,UPN|Windows|DN|Simple,
GroupOriginalType,string,Optional,,
GroupType,string,Optional,Local Distribution|Local Security Enabled|Global Distribution|Global Security Enabled|Universal Distribution|Universal Security Enabled|Other,
Hostname,string,Alias,,DvcHostname
NewPropertyValue,string,Optional,,
PreviousPropertyValue,string,Optional,,
SrcDomain,string,Recommended,,
SrcDomainType,string,Recommended,Windows|FQDN,
SrcDvcId,string,Optional,,
SrcHostname,string,Recommended,,
TargetOriginalUserType,string,Optional,,
TargetUserId,string,Optional,,
TargetUserIdType,string,Conditional,SID|UID|AADID|OktaId|AWSId|PUID|SalesforceId|VectraUserId|MD4IoTid|Other,TargetUserId
TargetUsername,string,Optional,,
TargetUsernameType,string,Conditional,UPN|Windows|DN|Simple,TargetUsername
TargetUserType,string,Optional,Regular|Machine|Admin|System|Application|Service Principal|Other,
UpdatedPropertyName,string,Alias,,EventSubType
User,string,Alias,,ActorUsername
`;

function parseFields(...tables: string[]): Map<string, AsimField> {
  const fields = new Map<string, AsimField>();
  for (const line of tables.join('\n').split('\n')) {
    if (line.trim() === '') continue;
    const [name = '', type = '', cls = '', allowed = '', relatedTo = ''] = line.split(',');
    fields.set(name, {
      name,
      type,
      class: cls as AsimClass,
      allowed: allowed === '' ? [] : allowed.split('|'),
      relatedTo,
    });
  }
  return fields;
}

/** The product every MCAS parser names in EventProduct (with EventVendor 'Microsoft'). */
export const MCAS_EVENT_PRODUCT = 'Defender for Cloud Apps';

/**
 * The EventProduct values the ASIM tester's CSV accepts today, by schema. A new source adds its product to these rows
 * in the same contribution; `sentinel/asim-tester/ASimTester.EventProduct.csv` holds the four rows with it added.
 */
export const ASIM_TESTER_EVENT_PRODUCTS: Readonly<Record<string, readonly string[]>> = {
  Authentication:
    'Service Cloud|Auth0|CloudTrail|AAD|ASA|Microsoft Defender for IoT|ISE|M365 Defender for Endpoint|Meraki|Security Events|Okta|PostgreSQL|OpenSSH|su|sudo|Vectra XDR|SentinelOne|WAF|FalconHost'.split(
      '|',
    ),
  FileEvent:
    'Sysmon for Linux|Sysmon|M365 Defender for Endpoint|Azure File Storage|SharePoint|OneDrive|SentinelOne|Carbon Black Cloud'.split(
      '|',
    ),
  AuditEvent: 'Azure|WAF|Security Events|Exchange 365|Dataminr Pulse|ISE|XDR|Meraki'.split('|'),
  UserManagement: 'Security Events|Authpriv|ISE|SentinelOne'.split('|'),
};

/** The schema's EventProduct field as the tester checks it once the MCAS product is added to its row. */
function eventProduct(schema: string): string {
  return `EventProduct,string,Mandatory,${[...(ASIM_TESTER_EVENT_PRODUCTS[schema] ?? []), MCAS_EVENT_PRODUCT].join('|')},`;
}

export const ASIM_SCHEMAS: Readonly<Record<string, AsimSchema>> = {
  Authentication: {
    name: 'Authentication',
    version: '0.1.4',
    title: 'ASIM Authentication Schema',
    link: 'https://aka.ms/ASimAuthenticationDoc',
    fields: parseFields(COMMON, SHARED, AUTHENTICATION, eventProduct('Authentication')),
  },
  FileEvent: {
    name: 'FileEvent',
    version: '0.2.2',
    title: 'ASIM File Schema',
    link: 'https://aka.ms/ASimFileEventDoc',
    fields: parseFields(COMMON, SHARED, FILE_EVENT, eventProduct('FileEvent')),
  },
  AuditEvent: {
    name: 'AuditEvent',
    version: '0.1.2',
    title: 'ASIM Audit Event Schema',
    link: 'https://aka.ms/ASimAuditEventDoc',
    fields: parseFields(COMMON, SHARED, AUDIT_EVENT, eventProduct('AuditEvent')),
  },
  UserManagement: {
    name: 'UserManagement',
    version: '0.1.2',
    title: 'ASIM User Management Schema',
    link: 'https://aka.ms/ASimUserManagementDoc',
    fields: parseFields(COMMON, SHARED, USER_MANAGEMENT, eventProduct('UserManagement')),
  },
};

/**
 * The filtering parameters of each schema's unifying `im…` parser (Azure-Sentinel `Parsers/ASim<Schema>/Parsers/
 * im<Schema>.yaml`), which a `vim…` parser must accept so the unifying parser can pass them on; `disabled` is how
 * the unifying parser switches a source off.
 */
export const ASIM_FILTER_PARAMETERS: Readonly<Record<string, readonly string[]>> = {
  Authentication: [
    'starttime',
    'endtime',
    'username_has_any',
    'targetappname_has_any',
    'srcipaddr_has_any_prefix',
    'srchostname_has_any',
    'eventtype_in',
    'eventresultdetails_in',
    'eventresult',
    'disabled',
  ],
  FileEvent: [
    'starttime',
    'endtime',
    'eventtype_in',
    'srcipaddr_has_any_prefix',
    'actorusername_has_any',
    'targetfilepath_has_any',
    'srcfilepath_has_any',
    'hashes_has_any',
    'dvchostname_has_any',
    'disabled',
  ],
  AuditEvent: [
    'starttime',
    'endtime',
    'srcipaddr_has_any_prefix',
    'actorusername_has_any',
    'operation_has_any',
    'eventtype_in',
    'eventresult',
    'object_has_any',
    'newvalue_has_any',
    'disabled',
  ],
  UserManagement: [
    'starttime',
    'endtime',
    'srcipaddr_has_any_prefix',
    'targetusername_has_any',
    'actorusername_has_any',
    'eventtype_in',
    'disabled',
  ],
};
