// The deployment's switches, evaluated for each value: network isolation (vnetEnabled), many tenants (multiTenant,
// with the names agreed with the tenant registry and its queue function), and the hardening that holds in every
// deployment (no basic publishing credentials, Flex Consumption regions, the vault audited, null-safe module outputs,
// no parameter that looks like a secret without @secure()).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { conditionOf, evaluate, type ParamValues, Unresolved, type Value } from './bicepEval.js';
import {
  assignedValue,
  type BicepFile,
  bodyOf,
  declarations,
  decoratorsOf,
  descendants,
  isConditional,
  literal,
  nameOf,
  type Node,
  parseBicepFilesUnder,
  property,
  resourceTypeOf,
  stringLiteral,
} from './bicepTree.js';
import { asObject, asString, MAIN_PARAMS, templateModel } from './templateModel.js';

const ISOLATED: ParamValues = { ...MAIN_PARAMS, vnetEnabled: true };
const MSSP: ParamValues = { ...MAIN_PARAMS, multiTenant: true };

/** The names the connector's multi-tenant code reads (agreed between the infrastructure and the tenant registry). */
const TENANT_QUEUE = 'mcas-tenant-runs';
const TENANT_REGISTRY = 'blob:mcas-connector/tenants.json';
const STORAGE_QUEUE_DATA_CONTRIBUTOR = '974c5e8b-45b9-4653-ba55-5f855dd0fb88';

/** Words that make Bicep's secure-secrets-in-params rule flag a parameter without @secure(). */
const SECRET_LOOKING = /password|pwd|secret|accountkey|acctkey/i;

let files: BicepFile[] = [];
const { fileAt, declared, mainModule, moduleOutput, resourceIn } = templateModel(() => files);

/** A resource of a main.bicep module, evaluated for main's parameters. */
function moduleResource(moduleName: string, resourceName: string, mainParams: ParamValues) {
  const { file, params } = mainModule(moduleName, mainParams);
  return resourceIn(file, resourceName, params);
}

/** The app settings the function app module writes, for main's parameters (deployment-time values stay Unresolved). */
function appSettings(mainParams: ParamValues): { [key: string]: Value } {
  return asObject(moduleResource('functionApp', 'appSettings', mainParams).body['properties'], 'app settings');
}

describe('deployment options', () => {
  before(async () => {
    files = await parseBicepFilesUnder('infra');
  });

  describe('vnetEnabled', () => {
    it('is off by default: no network, public access on, no VNet integration', () => {
      const main = fileAt('infra/main.bicep');
      assert.equal(literal(assignedValue(declared(main, 'parameter_declaration', 'vnetEnabled'))), false);
      assert.equal(mainModule('network', MAIN_PARAMS).deploys, false);
      assert.equal(
        asObject(moduleResource('storage', 'storage', MAIN_PARAMS).body['properties'], 'storage')[
          'publicNetworkAccess'
        ],
        'Enabled',
      );
      assert.equal(
        asObject(moduleResource('keyVault', 'vault', MAIN_PARAMS).body['properties'], 'vault')['publicNetworkAccess'],
        'Enabled',
      );
      assert.equal(mainModule('functionApp', MAIN_PARAMS).params['appSubnetId'], '');
    });

    it('on: private endpoints for blob and vault, public access off on both, the app in a delegated subnet', () => {
      assert.equal(mainModule('network', ISOLATED).deploys, true);
      const storage = asObject(moduleResource('storage', 'storage', ISOLATED).body['properties'], 'storage');
      assert.equal(storage['publicNetworkAccess'], 'Disabled');
      assert.deepEqual(storage['networkAcls'], { defaultAction: 'Deny', bypass: 'None' });
      const vault = asObject(moduleResource('keyVault', 'vault', ISOLATED).body['properties'], 'vault');
      assert.equal(vault['publicNetworkAccess'], 'Disabled');
      assert.equal(asObject(vault['networkAcls'], 'vault networkAcls')['defaultAction'], 'Deny');

      // The app's outbound traffic goes through the subnet the network module creates for it.
      const subnet = mainModule('functionApp', ISOLATED).params['appSubnetId'];
      assert.deepEqual(
        moduleOutput(subnet, ISOLATED),
        new Unresolved("'${virtualNetwork.id}/subnets/${appSubnetName}'"),
      );
      const site = declared(mainModule('functionApp', ISOLATED).file, 'resource_declaration', 'site');
      assert.equal(
        property(bodyOf(site), 'properties.virtualNetworkSubnetId')?.text,
        'empty(appSubnetId) ? null : appSubnetId',
      );

      const network = mainModule('network', ISOLATED);
      const vnet = resourceIn(network.file, 'virtualNetwork', network.params);
      const subnets = asObject(vnet.body['properties'], 'vnet')['subnets'];
      assert.ok(Array.isArray(subnets));
      const app = subnets.map((entry) => asObject(entry, 'subnet')).find((entry) => entry['name'] === 'app');
      assert.deepEqual(asObject(app?.['properties'], 'app subnet')['delegations'], [
        { name: 'flex-consumption', properties: { serviceName: 'Microsoft.App/environments' } },
      ]);
    });

    it('adds the queue endpoint only with the multi-tenant queue', () => {
      const endpoints = (mainParams: ParamValues): string[] => {
        const network = mainModule('network', mainParams);
        return declarations(network.file, 'module_declaration')
          .filter((node) => conditionOf(network.file, node, network.params) === true)
          .map((node) =>
            asString(evaluate(network.file, property(bodyOf(node), 'params.groupId'), network.params), 'groupId'),
          )
          .sort();
      };
      assert.deepEqual(endpoints(ISOLATED), ['blob', 'vault']);
      assert.deepEqual(endpoints({ ...ISOLATED, multiTenant: true }), ['blob', 'queue', 'vault']);
    });
  });

  describe('multiTenant', () => {
    it('off: no queue, no queue role, TENANT_REGISTRY empty (one tenant)', () => {
      const storage = mainModule('storage', MAIN_PARAMS);
      for (const name of ['queueService', 'tenantQueue', 'tenantPoisonQueue'])
        assert.equal(resourceIn(storage.file, name, storage.params).deploys, false, name);
      assert.equal(moduleResource('roles', 'storageQueueDataContributor', MAIN_PARAMS).deploys, false);
      assert.equal(appSettings(MAIN_PARAMS)['TENANT_REGISTRY'], '');
    });

    it('on: the queue and its poison queue, Storage Queue Data Contributor on the account, the agreed settings', () => {
      const storage = mainModule('storage', MSSP);
      const queues = ['tenantQueue', 'tenantPoisonQueue'].map((name) => resourceIn(storage.file, name, storage.params));
      assert.deepEqual(
        queues.map((queue) => [queue.deploys, queue.body['name']]),
        [
          [true, TENANT_QUEUE],
          [true, `${TENANT_QUEUE}-poison`],
        ],
      );
      const role = moduleResource('roles', 'storageQueueDataContributor', MSSP);
      assert.equal(role.deploys, true);
      const roles = mainModule('roles', MSSP).file;
      const roleId = declared(roles, 'variable_declaration', 'storageQueueDataContributorRoleId');
      assert.equal(evaluate(roles, assignedValue(roleId), {}), STORAGE_QUEUE_DATA_CONTRIBUTOR);
      const assignment = declared(roles, 'resource_declaration', 'storageQueueDataContributor');
      assert.equal(property(bodyOf(assignment), 'scope')?.text, 'storage');

      const settings = appSettings(MSSP);
      assert.equal(settings['TENANT_REGISTRY'], TENANT_REGISTRY);
      assert.equal(settings['TENANT_QUEUE_NAME'], TENANT_QUEUE);
      assert.deepEqual(
        settings['AzureWebJobsStorage__queueServiceUri'],
        new Unresolved('storage.properties.primaryEndpoints.queue'),
      );
      assert.equal(settings['AzureWebJobsStorage__credential'], 'managedidentity');
    });
  });

  describe('hardening', () => {
    it('turns off FTP and basic-auth deployment on the function app', () => {
      const app = mainModule('functionApp', MAIN_PARAMS).file;
      const policies = declarations(app, 'resource_declaration')
        .filter((node) => resourceTypeOf(node) === 'Microsoft.Web/sites/basicPublishingCredentialsPolicies')
        .map((node) => ({
          name: stringLiteral(property(bodyOf(node), 'name')),
          parent: property(bodyOf(node), 'parent')?.text,
          allow: literal(property(bodyOf(node), 'properties.allow')),
          conditional: isConditional(node),
        }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name)));
      assert.deepEqual(policies, [
        { name: 'ftp', parent: 'site', allow: false, conditional: false },
        { name: 'scm', parent: 'site', allow: false, conditional: false },
      ]);
    });

    it('deploys only to regions that offer Flex Consumption', () => {
      const location = declared(fileAt('infra/main.bicep'), 'parameter_declaration', 'location');
      const allowed = evaluate(fileAt('infra/main.bicep'), decoratorsOf(location).get('allowed')?.[0], {});
      assert.ok(Array.isArray(allowed) && allowed.length > 20, 'location has no @allowed list of regions');
      assert.ok(allowed.includes('westeurope') && allowed.includes('eastus2'));
      assert.ok(!allowed.includes('eastus2euap'), 'a canary region is no place for this');
      assert.ok(allowed.every((region) => typeof region === 'string' && /^[a-z0-9]+$/.test(region)));
    });

    it("sends the vault's audit events (every secret read) to the connector's Log Analytics workspace", () => {
      const vaultModule = mainModule('keyVault', MAIN_PARAMS);
      const audit = declarations(vaultModule.file, 'resource_declaration').filter(
        (node) => resourceTypeOf(node) === 'Microsoft.Insights/diagnosticSettings',
      );
      assert.equal(audit.length, 1);
      const body = resourceIn(vaultModule.file, nameOf(audit[0] as Node), vaultModule.params);
      assert.equal(body.deploys, true);
      assert.equal(property(bodyOf(audit[0] as Node), 'scope')?.text, 'vault');
      const properties = asObject(body.body['properties'], 'diagnostic setting');
      assert.deepEqual(properties['logs'], [{ category: 'AuditEvent', enabled: true }]);
      assert.equal(properties['logAnalyticsDestinationType'], 'Dedicated');
      assert.deepEqual(
        vaultModule.params['auditWorkspaceResourceId'],
        new Unresolved('monitoring.outputs.logAnalyticsWorkspaceId'),
      );
      assert.deepEqual(
        moduleOutput(vaultModule.params['auditWorkspaceResourceId'], MAIN_PARAMS),
        new Unresolved('logAnalytics.id'),
      );
    });

    it('reads the outputs of a conditional module only null-safely (module.?outputs.x)', () => {
      const unsafe = files.flatMap((file) => {
        const conditional = new Set(declarations(file, 'module_declaration').filter(isConditional).map(nameOf));
        return descendants(file.root)
          .filter((node) => node.type === 'member_expression' && node.childForFieldName('property')?.text === 'outputs')
          .filter((node) => conditional.has(node.childForFieldName('object')?.text ?? ''))
          .filter((node) => !node.children.some((child) => child.type === '.?'))
          .map((node) => `${file.path}:${node.startPosition.row + 1}: ${node.parent?.text ?? node.text}`);
      });
      assert.deepEqual(unsafe, []);
    });

    it('names no parameter like a secret unless it is @secure() (Bicep linter: secure-secrets-in-params)', () => {
      const flagged = files.flatMap((file) =>
        declarations(file, 'parameter_declaration')
          .filter((node) => SECRET_LOOKING.test(nameOf(node)) && !decoratorsOf(node).has('secure'))
          .map((node) => `${file.path}: ${nameOf(node)}`),
      );
      assert.deepEqual(flagged, []);
    });

    it('marks the Secrets Officer grant as one-off, made only when a person is named', () => {
      const officer = moduleResource('roles', 'vaultSecretsOfficer', { ...MAIN_PARAMS, vaultOfficerPrincipalId: 'a' });
      assert.equal(officer.deploys, true);
      const description = asObject(officer.body['properties'], 'assignment')['description'];
      assert.match(asString(description, 'assignment description'), /^One-off/);
      assert.equal(moduleResource('roles', 'vaultSecretsOfficer', MAIN_PARAMS).deploys, false);
    });
  });
});
