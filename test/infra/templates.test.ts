// The deployment templates' contract, read from their syntax trees: the app settings cover what src/config.ts needs and
// hold no secret, each role sits on the one resource that needs it, and the security switches stay on.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';

import { DEPLOYED_NODE_OPTIONS } from '../../scripts/benchMemory.js';
import { DEFAULTS, SETTING_NAMES } from '../../src/config.js';
import { TENANT_SETTING_NAMES } from '../../src/tenants/tenantStorage.js';
import {
  assignedValue,
  type BicepFile,
  bodyOf,
  declarations,
  decoratorsOf,
  descendants,
  isConditional,
  isExisting,
  keyOf,
  literal,
  nameOf,
  type Node,
  parseBicepFilesUnder,
  properties,
  property,
  REPO_ROOT,
  resourceTypeOf,
  stringLiteral,
  valueOf,
} from './bicepTree.js';

/** Azure built-in role definition ids (the same in every tenant). */
const ROLE_NAMES: ReadonlyMap<string, string> = new Map([
  ['4633458b-17de-408a-b874-0445c86b69e6', 'Key Vault Secrets User'],
  ['b86a8fe4-44ce-4948-aee5-eccb2c155cd7', 'Key Vault Secrets Officer'],
  ['b7e6dc6d-f1e8-4753-8033-0f276bb0955b', 'Storage Blob Data Owner'],
  ['3913510d-42f4-4e42-8a64-420c390055eb', 'Monitoring Metrics Publisher'],
  ['974c5e8b-45b9-4653-ba55-5f855dd0fb88', 'Storage Queue Data Contributor'],
]);

// How each setting that src/config.ts reads without a default is handled by the template. A new one fails the
// contract test below until it is set in infra/modules/functionApp.bicep or listed here.
/** Secrets and the connection-string form of host storage: never in app settings. */
const NEVER_SET = ['MCAS_API_TOKEN', 'LOG_ANALYTICS_WORKSPACE_KEY', 'AzureWebJobsStorage'];
/**
 * Optional: unset means "derive it from the workspace id", "no extra filter", or, with MCAS_AUTH=entra, "use the
 * function's own identity rather than an app registration" (the template leaves MCAS_AUTH at its default, token).
 */
const OPTIONAL = ['LOG_ANALYTICS_ENDPOINT', 'MCAS_ACTIVITY_FILTERS', 'MCAS_APP_CLIENT_ID', 'MCAS_APP_TENANT_ID'];
/** Host storage through the identity; config.ts accepts either. */
const STORAGE_ENDPOINTS = ['AzureWebJobsStorage__blobServiceUri', 'AzureWebJobsStorage__accountName'];
/** Defaulted in config.ts, but the host resolves %MCAS_TIMER_SCHEDULE% in the trigger before any of our code runs. */
const DEFAULTED_BUT_REQUIRED = ['MCAS_TIMER_SCHEDULE'];
/**
 * Read by the Functions host or by Node, not by config.ts: identity-based host storage, Entra-authenticated telemetry,
 * and Node's options (the young generation's size, which the memory bench measures the connector with).
 */
const HOST_SETTINGS = [
  'NODE_OPTIONS',
  'AzureWebJobsStorage__queueServiceUri',
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
];
/** Deprecated on Flex Consumption, where the runtime and the package come from functionAppConfig. */
const FLEX_DEPRECATED = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_NODE_DEFAULT_VERSION',
];
/** ARM functions and string fragments that put a credential into a value. */
const SECRET_BEARING =
  /\blist[A-Z]\w*\(|AccountKey=|SharedAccessSignature|SharedAccessKey|primaryKey|secondaryKey|SharedKey|@Microsoft\.KeyVault\(/;

/**
 * The app settings src/config.ts reads, and those it has a default for. Names come from its source (`env, 'NAME'`);
 * a setting has a default when it is a key of DEFAULTS or its read is followed by a fallback (`env, 'NAME') ?? ...`).
 * If config.ts comes to export its list of setting names, read that here instead.
 */
function settingsReadByConfig(): { read: Set<string>; defaulted: Set<string> } {
  const defaulted = new Set(Object.keys(DEFAULTS));
  const read = new Set([...SETTING_NAMES, ...TENANT_SETTING_NAMES, ...defaulted]);
  return { read, defaulted };
}

interface Located {
  file: BicepFile;
  node: Node;
}

let files: BicepFile[] = [];

function fileAt(path: string): BicepFile {
  const found = files.find((file) => file.path === path);
  assert.ok(found, `${path} is missing`);
  return found;
}

/** Resources of one type (without API version) across every template; `existing` references left out unless asked. */
function resources(type: string, options: { includeExisting?: boolean } = {}): Located[] {
  return files.flatMap((file) =>
    declarations(file, 'resource_declaration')
      .filter((node) => resourceTypeOf(node) === type && (options.includeExisting || !isExisting(node)))
      .map((node) => ({ file, node })),
  );
}

/** The one resource of a type that the templates deploy. */
function deployed(type: string): Located & { body: Node } {
  const found = resources(type);
  assert.equal(found.length, 1, `expected one deployed ${type}, found ${found.length}`);
  const [only] = found as [Located];
  const body = bodyOf(only.node);
  assert.ok(body, `${only.file.path}: ${type} has no body`);
  return { ...only, body };
}

/** A plain string, or an identifier naming a `var` with a plain string value in the same file. */
function resolveString(file: BicepFile, node: Node | undefined): string | undefined {
  if (node?.type === 'identifier') {
    const variable = declarations(file, 'variable_declaration').find((candidate) => nameOf(candidate) === node.text);
    return variable ? stringLiteral(assignedValue(variable)) : undefined;
  }
  return stringLiteral(node);
}

/** The app settings of the function app: the properties of its one `config` resource named 'appsettings'. */
function appSettings(): { file: BicepFile; settings: Map<string, Node> } {
  const configs = resources('Microsoft.Web/sites/config').filter(
    ({ node }) => stringLiteral(property(bodyOf(node), 'name')) === 'appsettings',
  );
  assert.equal(configs.length, 1, 'expected one Microsoft.Web/sites/config resource named appsettings');
  const [{ file, node }] = configs as [Located];
  const values = property(bodyOf(node), 'properties');
  assert.equal(values?.type, 'object', 'app settings must be an object literal, so that each name can be checked');
  const settings = new Map<string, Node>();
  for (const entry of properties(values)) {
    const value = valueOf(entry);
    if (value) settings.set(keyOf(entry), value);
  }
  return { file, settings };
}

function param(file: BicepFile, name: string): Node | undefined {
  return declarations(file, 'parameter_declaration').find((node) => nameOf(node) === name);
}

function moduleParam(file: BicepFile, moduleName: string, paramName: string): string | undefined {
  const module = declarations(file, 'module_declaration').find((node) => nameOf(node) === moduleName);
  assert.ok(module, `${file.path}: no module ${moduleName}`);
  return property(bodyOf(module), `params.${paramName}`)?.text;
}

/** host.json functionTimeout ("hh:mm:ss") in seconds. */
async function functionTimeoutSeconds(): Promise<number> {
  const host = JSON.parse(await readFile(join(REPO_ROOT, 'host.json'), 'utf8')) as { functionTimeout?: unknown };
  const match = typeof host.functionTimeout === 'string' ? /^(\d+):(\d{2}):(\d{2})$/.exec(host.functionTimeout) : null;
  assert.ok(match, 'host.json must set functionTimeout as hh:mm:ss');
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

describe('deployment templates', () => {
  before(async () => {
    files = await parseBicepFilesUnder('infra');
  });

  describe('app settings', () => {
    it('set every setting the connector config reads without a default', () => {
      const { read, defaulted } = settingsReadByConfig();
      assert.ok(
        read.has('MCAS_PORTAL_URL') && read.has('KEY_VAULT_URL'),
        'could not read setting names from config.ts',
      );
      const { settings } = appSettings();

      const withoutDefault = [...read].filter((name) => !defaulted.has(name));
      const handledElsewhere = new Set([...NEVER_SET, ...OPTIONAL, ...STORAGE_ENDPOINTS]);
      const missing = withoutDefault.filter((name) => !handledElsewhere.has(name) && !settings.has(name));
      assert.deepEqual(
        missing,
        [],
        'config.ts reads these without a default: set them in infra/modules/functionApp.bicep, or list them as OPTIONAL here',
      );

      for (const name of [...DEFAULTED_BUT_REQUIRED, ...HOST_SETTINGS])
        assert.ok(settings.has(name), `${name} is not set`);
      assert.equal(
        settings.get('NODE_OPTIONS')?.text,
        `'${DEPLOYED_NODE_OPTIONS}'`,
        'the Node options the memory bench measures with',
      );
      const endpoints = STORAGE_ENDPOINTS.filter((name) => settings.has(name));
      assert.equal(endpoints.length, 1, `set exactly one of ${STORAGE_ENDPOINTS.join(', ')}`);
    });

    it('name only settings the config reads, besides the Functions host own ones', () => {
      const { read } = settingsReadByConfig();
      const { settings } = appSettings();
      const unknown = [...settings.keys()].filter((name) => !read.has(name) && !HOST_SETTINGS.includes(name));
      assert.deepEqual(unknown, [], 'neither config.ts nor the host reads these (a typo?)');
    });

    it('hold neither secret nor any storage key or connection string', () => {
      const { file, settings } = appSettings();
      for (const name of NEVER_SET) assert.ok(!settings.has(name), `${name} must not be an app setting`);
      for (const [name, value] of settings) {
        assert.doesNotMatch(value.text, SECRET_BEARING, `${name} holds a credential`);
        if (name !== 'APPLICATIONINSIGHTS_CONNECTION_STRING') {
          assert.doesNotMatch(value.text, /ConnectionString|InstrumentationKey/i, `${name} holds a connection string`);
        }
      }
      // The Application Insights connection string carries an InstrumentationKey, which identifies the component
      // and is no credential once the component refuses local auth: it must come from such a component.
      const connection = settings.get('APPLICATIONINSIGHTS_CONNECTION_STRING');
      const match = /^(\w+)\.properties\.ConnectionString$/.exec(connection?.text ?? '');
      assert.ok(match, 'APPLICATIONINSIGHTS_CONNECTION_STRING must be <component>.properties.ConnectionString');
      const source = declarations(file, 'resource_declaration').find((node) => nameOf(node) === match[1]);
      assert.equal(source && resourceTypeOf(source), 'Microsoft.Insights/components');
      assert.equal(
        literal(property(deployed('Microsoft.Insights/components').body, 'properties.DisableLocalAuth')),
        true,
      );
      assert.match(settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')?.text ?? '', /Authorization=AAD/);
    });

    it('leave out the settings Flex Consumption deprecates', () => {
      const { settings } = appSettings();
      assert.deepEqual(
        FLEX_DEPRECATED.filter((name) => settings.has(name)),
        [],
      );
      const site = deployed('Microsoft.Web/sites');
      assert.equal(
        property(site.body, 'properties.siteConfig.appSettings'),
        undefined,
        'keep all settings in one place',
      );
    });

    it('pass the Sentinel workspace id (its customerId GUID), not its resource id', () => {
      const { settings } = appSettings();
      assert.equal(settings.get('LOG_ANALYTICS_WORKSPACE_ID')?.text, 'logAnalyticsWorkspaceId');
      const passed = moduleParam(fileAt('infra/main.bicep'), 'functionApp', 'logAnalyticsWorkspaceId') ?? '';
      assert.match(passed, /^\w+\.properties\.customerId$/);
    });

    it('create the checkpoint container the config uses by default', () => {
      const main = fileAt('infra/main.bicep');
      const variable = declarations(main, 'variable_declaration').find(
        (node) => nameOf(node) === 'checkpointContainerName',
      );
      assert.equal(variable && stringLiteral(assignedValue(variable)), DEFAULTS.CHECKPOINT_CONTAINER);
      assert.equal(moduleParam(main, 'storage', 'checkpointContainerName'), 'checkpointContainerName');
      assert.equal(moduleParam(main, 'functionApp', 'checkpointContainerName'), 'checkpointContainerName');
      const containers = resources('Microsoft.Storage/storageAccounts/blobServices/containers');
      const names = containers.map(({ node }) => property(bodyOf(node), 'name')?.text);
      assert.ok(names.includes('checkpointContainerName'), 'no container named by checkpointContainerName');
      assert.equal(appSettings().settings.get('CHECKPOINT_CONTAINER')?.text, 'checkpointContainerName');
    });
  });

  describe('roles', () => {
    it('grant each role on the one resource that needs it, never on a resource group or subscription', () => {
      const granted = resources('Microsoft.Authorization/roleAssignments').map(({ file, node }) => {
        const where = `${file.path} ${nameOf(node)}`;
        const body = bodyOf(node);
        const scope = property(body, 'scope');
        assert.ok(scope, `${where}: no scope, so it would apply to the whole resource group`);
        assert.equal(scope.type, 'identifier', `${where}: scope must name a resource, got ${scope.text}`);
        const target = declarations(file, 'resource_declaration').find((candidate) => nameOf(candidate) === scope.text);
        assert.ok(target, `${where}: scope ${scope.text} is not a resource declared in ${file.path}`);

        const definition = property(body, 'properties.roleDefinitionId');
        assert.equal(
          definition?.type,
          'call_expression',
          `${where}: roleDefinitionId must be subscriptionResourceId(...)`,
        );
        assert.equal(definition.childForFieldName('function')?.text, 'subscriptionResourceId');
        const args = definition.childForFieldName('arguments')?.namedChildren ?? [];
        assert.equal(stringLiteral(args[0]), 'Microsoft.Authorization/roleDefinitions');
        const roleId = resolveString(file, args[1]) ?? `unresolved ${args[1]?.text}`;
        return {
          role: ROLE_NAMES.get(roleId) ?? `unexpected role ${roleId}`,
          scope: resourceTypeOf(target),
          principal: property(body, 'properties.principalId')?.text,
          conditional: isConditional(node),
        };
      });
      const byRole = (a: { role: string; scope: string }, b: { role: string; scope: string }): number =>
        a.role.localeCompare(b.role) || a.scope.localeCompare(b.scope);
      assert.deepEqual(
        granted.sort(byRole),
        [
          {
            role: 'Key Vault Secrets Officer',
            scope: 'Microsoft.KeyVault/vaults',
            principal: 'vaultOfficerPrincipalId',
            conditional: true,
          },
          {
            role: 'Key Vault Secrets User',
            scope: 'Microsoft.KeyVault/vaults',
            principal: 'principalId',
            conditional: false,
          },
          {
            role: 'Monitoring Metrics Publisher',
            scope: 'Microsoft.Insights/components',
            principal: 'principalId',
            conditional: false,
          },
          // Deployed with the DCR module, which main.bicep deploys only for logSink=logsIngestion.
          {
            role: 'Monitoring Metrics Publisher',
            scope: 'Microsoft.Insights/dataCollectionRules',
            principal: 'principalId',
            conditional: false,
          },
          {
            role: 'Storage Blob Data Owner',
            scope: 'Microsoft.Storage/storageAccounts',
            principal: 'principalId',
            conditional: false,
          },
          // multiTenant only: the tenant-run queue trigger.
          {
            role: 'Storage Queue Data Contributor',
            scope: 'Microsoft.Storage/storageAccounts',
            principal: 'principalId',
            conditional: true,
          },
        ].sort(byRole),
      );
    });

    it('go to the identity the function app runs as', () => {
      const main = fileAt('infra/main.bicep');
      assert.equal(moduleParam(main, 'roles', 'principalId'), 'identity.outputs.principalId');
      assert.equal(moduleParam(main, 'dataCollection', 'principalId'), 'identity.outputs.principalId');
      assert.equal(moduleParam(main, 'functionApp', 'identityName'), 'identity.outputs.name');
      const site = deployed('Microsoft.Web/sites');
      assert.equal(stringLiteral(property(site.body, 'identity.type')), 'UserAssigned');
    });
  });

  describe('security switches', () => {
    it('turn off shared-key and anonymous access on the storage account', () => {
      const { body } = deployed('Microsoft.Storage/storageAccounts');
      assert.equal(literal(property(body, 'properties.allowSharedKeyAccess')), false);
      assert.equal(literal(property(body, 'properties.allowBlobPublicAccess')), false);
      assert.equal(literal(property(body, 'properties.minimumTlsVersion')), 'TLS1_2');
    });

    it('make the vault RBAC-only, with soft delete and purge protection', () => {
      const { body } = deployed('Microsoft.KeyVault/vaults');
      assert.equal(literal(property(body, 'properties.enableRbacAuthorization')), true);
      assert.equal(literal(property(body, 'properties.enableSoftDelete')), true);
      assert.equal(literal(property(body, 'properties.enablePurgeProtection')), true);
      assert.equal(property(body, 'properties.accessPolicies'), undefined);
    });

    it('call no list* function, which would put a key into the deployment', () => {
      const calls = files.flatMap((file) =>
        descendants(file.root)
          .filter((node) => node.type === 'call_expression')
          .map((node) => {
            const callee = node.childForFieldName('function');
            const name =
              callee?.type === 'member_expression' ? callee.childForFieldName('property')?.text : callee?.text;
            return `${file.path}: ${name}`;
          })
          .filter((call) => /: list/i.test(call)),
      );
      assert.deepEqual(calls, []);
    });

    it('output names and addresses only, never a key, token or connection string', () => {
      const outputs = files.flatMap((file) => declarations(file, 'output_declaration').map((node) => ({ file, node })));
      assert.ok(outputs.length > 0);
      for (const { file, node } of outputs) {
        const where = `${file.path} output ${nameOf(node)}`;
        assert.doesNotMatch(
          nameOf(node),
          /secret|password|token|connection|instrumentation|sharedkey|accountkey|apikey|workspacekey/i,
          where,
        );
        const value = assignedValue(node)?.text ?? '';
        assert.doesNotMatch(value, SECRET_BEARING, where);
        assert.doesNotMatch(value, /ConnectionString|InstrumentationKey|secret/i, where);
        assert.ok(!decoratorsOf(node).has('secure'), `${where} is a secure output: nothing here should need one`);
      }
    });
  });

  describe('function app', () => {
    it('runs on Flex Consumption with the Node major version package.json asks for', async () => {
      const plan = deployed('Microsoft.Web/serverfarms');
      assert.equal(literal(property(plan.body, 'sku.name')), 'FC1');
      assert.equal(literal(property(plan.body, 'sku.tier')), 'FlexConsumption');
      const site = deployed('Microsoft.Web/sites');
      assert.equal(literal(property(site.body, 'kind')), 'functionapp,linux');
      assert.equal(literal(property(site.body, 'properties.functionAppConfig.runtime.name')), 'node');
      const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
        engines?: { node?: string };
      };
      const major = /\d+/.exec(pkg.engines?.node ?? '')?.[0];
      assert.ok(major, 'package.json has no engines.node');
      assert.equal(literal(property(site.body, 'properties.functionAppConfig.runtime.version')), major);
    });

    it('deploys its package from a blob container, reached through the identity', () => {
      const { body } = deployed('Microsoft.Web/sites');
      const storage = property(body, 'properties.functionAppConfig.deployment.storage');
      assert.equal(literal(property(storage, 'type')), 'blobContainer');
      assert.equal(literal(property(storage, 'authentication.type')), 'UserAssignedIdentity');
      assert.equal(literal(property(storage, 'authentication.storageAccountConnectionStringName')), undefined);
    });

    it('stops a run well before the host functionTimeout kills it', async () => {
      const timeoutSeconds = await functionTimeoutSeconds();
      assert.ok(
        DEFAULTS.RUN_TIME_BUDGET_SECONDS < timeoutSeconds,
        'the config default budget outlasts functionTimeout',
      );
      const budgets = files.flatMap((file) => {
        const node = param(file, 'runTimeBudgetSeconds');
        return node ? [{ file, node }] : [];
      });
      assert.ok(budgets.length > 0, 'no runTimeBudgetSeconds parameter');
      for (const { file, node } of budgets) {
        const max = literal(decoratorsOf(node).get('maxValue')?.[0]);
        assert.equal(typeof max, 'number', `${file.path}: runTimeBudgetSeconds needs @maxValue`);
        assert.ok((max as number) < timeoutSeconds, `${file.path}: @maxValue(${max}) is not below ${timeoutSeconds} s`);
        const fallback = literal(assignedValue(node));
        if (fallback !== undefined)
          assert.ok((fallback as number) <= (max as number), `${file.path}: default above max`);
      }
      assert.equal(appSettings().settings.get('RUN_TIME_BUDGET_SECONDS')?.text, 'string(runTimeBudgetSeconds)');
    });
  });

  describe('sources', () => {
    it('pin a dated API version on every resource and use only modules from this folder', () => {
      const unpinned = files.flatMap((file) =>
        declarations(file, 'resource_declaration')
          .map((node) => stringLiteral(node.namedChildren.find((child) => child.type === 'string')) ?? node.text)
          .filter((type) => !/^Microsoft\.[A-Za-z]+\/[A-Za-z/]+@\d{4}-\d{2}-\d{2}(-preview)?$/.test(type))
          .map((type) => `${file.path}: ${type}`),
      );
      assert.deepEqual(unpinned, []);
      const modules = files.flatMap((file) =>
        declarations(file, 'module_declaration').map((node) => ({
          file,
          path: stringLiteral(node.namedChildren.find((child) => child.type === 'string')) ?? node.text,
        })),
      );
      assert.ok(modules.length > 0);
      for (const { file, path } of modules) {
        assert.match(
          path,
          /^[\w./-]+\.bicep$/,
          `${file.path}: module ${path} is not a local file (registry modules are not used)`,
        );
        const target = join(file.path, '..', path).split('\\').join('/');
        assert.ok(
          files.some((candidate) => candidate.path === target),
          `${file.path}: module ${path} does not exist`,
        );
      }
    });
  });

  describe('azd and az entry points', () => {
    it('azure.yaml deploys one TypeScript function service to the app tagged with its name', async () => {
      const project = parseYaml(await readFile(join(REPO_ROOT, 'azure.yaml'), 'utf8')) as {
        infra?: { path?: string };
        services?: Record<string, { project?: string; language?: string; host?: string }>;
      };
      const services = Object.entries(project.services ?? {});
      assert.equal(services.length, 1, 'expected one service');
      const [[serviceName, service]] = services as [[string, { project?: string; language?: string; host?: string }]];
      assert.equal(service.host, 'function');
      assert.ok(['ts', 'js'].includes(service.language ?? ''), `language ${service.language} is not ts or js`);
      assert.equal(service.project, '.');
      assert.equal(project.infra?.path ?? 'infra', 'infra');

      const site = deployed('Microsoft.Web/sites');
      const tag = descendants(property(site.body, 'tags') ?? site.body).find(
        (node) => node.type === 'object_property' && keyOf(node) === 'azd-service-name',
      );
      assert.ok(tag, 'the function app has no azd-service-name tag, so azd deploy cannot find it');
      assert.equal(resolveString(site.file, valueOf(tag)), serviceName);
    });

    it('main.bicep deploys at subscription scope, and main.parameters.json feeds its parameters', async () => {
      const main = fileAt('infra/main.bicep');
      const scope = main.root.namedChildren.find((node) => node.type === 'target_scope_assignment');
      assert.equal(stringLiteral(scope?.namedChildren.find((node) => node.type === 'string')), 'subscription');

      const parameterFile = JSON.parse(await readFile(join(REPO_ROOT, 'infra/main.parameters.json'), 'utf8')) as {
        parameters?: Record<string, unknown>;
      };
      const given = Object.keys(parameterFile.parameters ?? {});
      const declared = declarations(main, 'parameter_declaration');
      const names = declared.map(nameOf);
      assert.deepEqual(
        given.filter((name) => !names.includes(name)),
        [],
        'main.bicep declares no such parameter',
      );
      const required = declared.filter((node) => assignedValue(node) === undefined).map(nameOf);
      assert.deepEqual(
        required.filter((name) => !given.includes(name)),
        [],
        'azd would have no value for these',
      );
    });
  });
});
