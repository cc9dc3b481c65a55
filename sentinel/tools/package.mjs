// The Content Hub package of the solution: Package/mainTemplate.json (content templates for every rule, hunting
// query, parser, the workbook and the connector definition, the parsers and connector deployed at once, and the
// solution's contentPackages record) and Package/createUiDefinition.json (the install wizard). Built from the files
// that Data/Solution_MCASActivityConnector.json lists, in the shape Azure-Sentinel's packaging tool (V3) produces.
import { createHash } from 'node:crypto';

import {
  ARM_SCHEMA,
  armLiteral,
  huntingSearchProperties,
  parserSearchProperties,
  ruleProperties,
  SAVED_SEARCHES_API_VERSION,
} from './armResources.mjs';

const CONTENT_API_VERSION = '2023-04-01-preview';
const RULE_TEMPLATES_API_VERSION = '2023-02-01-preview';
const METADATA_API_VERSION = '2022-01-01-preview';
const WORKBOOK_API_VERSION = '2022-04-01';
const DATA_CONNECTOR_API_VERSION = '2021-03-01-preview';
const UI_SCHEMA = 'https://schema.management.azure.com/schemas/0.1.2-preview/CreateUIDefinition.MultiVm.json#';

/** A stable GUID for content that has no id of its own (parsers, the workbook), from its name. */
export function contentGuid(name) {
  const hex = createHash('sha256').update(`MCASActivityConnector/${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const WORKSPACE = "parameters('workspace')";
const inWorkspace = (suffix) => `[concat(${WORKSPACE},'/Microsoft.SecurityInsights/',${suffix})]`;

function packageContext(sources) {
  const { solution, metadata } = sources;
  const solutionId = `${metadata.publisherId}.${metadata.offerId}`;
  return {
    solutionName: solution.Name,
    solutionVersion: solution.Version,
    solutionId,
    source: { kind: 'Solution', name: solution.Name, sourceId: "[variables('_solutionId')]" },
    author: { name: solution.Author },
    support: metadata.support,
    packageResourceId:
      "[extensionResourceId(resourceId('Microsoft.OperationalInsights/workspaces', parameters('workspace')), 'Microsoft.SecurityInsights/contentPackages', variables('_solutionId'))]",
  };
}

/** One content template: the item's own resources plus its metadata, wrapped as Content Hub installs them. */
function contentTemplate(ctx, item) {
  const kindCode = { AnalyticsRule: 'ar', HuntingQuery: 'hq', Parser: 'pr', Workbook: 'wb', DataConnector: 'dc' }[
    item.kind
  ];
  const productId = `[concat(take(variables('_solutionId'),50),'-','${kindCode}','-', uniqueString(concat(variables('_solutionId'),'-','${item.kind}','-','${item.contentId}','-', '${item.version}')))]`;
  const metadataResource = {
    type: 'Microsoft.OperationalInsights/workspaces/providers/metadata',
    apiVersion: METADATA_API_VERSION,
    name: inWorkspace(`concat('${item.kind}-', last(split(${item.parentId.slice(1, -1)},'/')))`),
    properties: {
      description: `${ctx.solutionName} ${item.kind} ${item.displayName}`,
      parentId: item.parentId,
      contentId: item.contentId,
      kind: item.kind,
      version: item.version,
      source: ctx.source,
      author: ctx.author,
      support: ctx.support,
    },
  };
  return {
    type: 'Microsoft.OperationalInsights/workspaces/providers/contentTemplates',
    apiVersion: CONTENT_API_VERSION,
    name: inWorkspace(`'${ctx.solutionName}-${kindCode}-${item.contentId}'`),
    location: "[parameters('workspace-location')]",
    dependsOn: [ctx.packageResourceId],
    properties: {
      description: `${item.displayName} (${item.kind}, ${ctx.solutionName} solution)`,
      mainTemplate: {
        $schema: ARM_SCHEMA,
        contentVersion: item.version,
        parameters: {},
        variables: {},
        resources: [...item.resources, metadataResource],
      },
      packageKind: 'Solution',
      packageVersion: ctx.solutionVersion,
      packageName: ctx.solutionName,
      packageId: "[variables('_solutionId')]",
      contentSchemaVersion: '3.0.0',
      contentId: item.contentId,
      contentKind: item.kind,
      displayName: item.displayName,
      contentProductId: productId,
      id: productId,
      version: item.version,
    },
  };
}

function ruleItem(rule) {
  const { content, name } = rule;
  const parentId = `[resourceId('Microsoft.SecurityInsights/AlertRuleTemplates', '${content.id}')]`;
  return {
    kind: 'AnalyticsRule',
    contentId: content.id,
    displayName: content.name,
    version: content.version,
    parentId,
    resources: [
      {
        type: 'Microsoft.SecurityInsights/AlertRuleTemplates',
        name: content.id,
        apiVersion: RULE_TEMPLATES_API_VERSION,
        kind: content.kind,
        location: "[parameters('workspace-location')]",
        properties: {
          ...ruleProperties(content, name),
          enabled: false,
          status: content.status,
          requiredDataConnectors: content.requiredDataConnectors,
        },
      },
    ],
  };
}

function huntingItem(query) {
  const { content } = query;
  const parentId = `[resourceId('Microsoft.OperationalInsights/savedSearches', '${content.id}')]`;
  return {
    kind: 'HuntingQuery',
    contentId: content.id,
    displayName: content.name,
    version: content.version,
    parentId,
    resources: [
      {
        type: 'Microsoft.OperationalInsights/savedSearches',
        apiVersion: SAVED_SEARCHES_API_VERSION,
        name: `${content.id}`,
        location: "[parameters('workspace-location')]",
        properties: huntingSearchProperties(content),
      },
    ],
  };
}

function parserResource(fn, name) {
  return {
    type: 'Microsoft.OperationalInsights/workspaces/savedSearches',
    apiVersion: SAVED_SEARCHES_API_VERSION,
    name,
    location: "[parameters('workspace-location')]",
    properties: parserSearchProperties(fn),
  };
}

function parserItem(fn) {
  const version = fn.document.Function?.Version ?? fn.document.Parser.Version;
  return {
    kind: 'Parser',
    contentId: contentGuid(`parser/${fn.name}`),
    displayName: fn.name,
    version,
    parentId: `[resourceId('Microsoft.OperationalInsights/workspaces/savedSearches', parameters('workspace'), '${fn.name}')]`,
    resources: [parserResource(fn, `[concat(parameters('workspace'), '/${fn.name}')]`)],
  };
}

function workbookItem(sources) {
  const entry = sources.workbookMetadata[0];
  const contentId = contentGuid(`workbook/${entry.workbookKey}`);
  return {
    kind: 'Workbook',
    contentId,
    displayName: entry.title,
    version: entry.version,
    parentId: `[resourceId('Microsoft.Insights/workbooks', '${contentId}')]`,
    resources: [
      {
        type: 'Microsoft.Insights/workbooks',
        name: contentId,
        location: "[parameters('workspace-location')]",
        kind: 'shared',
        apiVersion: WORKBOOK_API_VERSION,
        metadata: { description: entry.description },
        properties: {
          displayName: "[parameters('workbook1-name')]",
          serializedData: armLiteral(JSON.stringify(sources.workbook)),
          version: '1.0',
          sourceId: "[variables('workspaceResourceId')]",
          category: 'sentinel',
        },
      },
    ],
  };
}

function connectorResource(connector, name) {
  return {
    name,
    apiVersion: DATA_CONNECTOR_API_VERSION,
    type: 'Microsoft.OperationalInsights/workspaces/providers/dataConnectors',
    location: "[parameters('workspace-location')]",
    kind: 'GenericUI',
    properties: { connectorUiConfig: armLiteral(connector) },
  };
}

function connectorItem(sources) {
  const { connector } = sources;
  return {
    kind: 'DataConnector',
    contentId: connector.id,
    displayName: connector.title,
    version: sources.solution.Version,
    parentId: `[extensionResourceId(resourceId('Microsoft.OperationalInsights/workspaces', parameters('workspace')), 'Microsoft.SecurityInsights/dataConnectors', '${connector.id}')]`,
    resources: [connectorResource(connector, inWorkspace(`'${connector.id}'`))],
  };
}

function contentPackage(ctx, sources, items) {
  const { solution, metadata } = sources;
  return {
    type: 'Microsoft.OperationalInsights/workspaces/providers/contentPackages',
    apiVersion: CONTENT_API_VERSION,
    location: "[parameters('workspace-location')]",
    name: inWorkspace("variables('_solutionId')"),
    properties: {
      version: ctx.solutionVersion,
      kind: 'Solution',
      contentSchemaVersion: '3.0.0',
      displayName: 'Defender for Cloud Apps activities (MCAS activity connector)',
      publisherDisplayName: solution.Author,
      descriptionHtml: `<p><strong>Note:</strong> the data connector is an Azure Function you deploy (see its page).</p><p>${solution.Description}</p>`,
      contentKind: 'Solution',
      contentProductId: `[concat(take(variables('_solutionId'),50),'-','sl','-', uniqueString(concat(variables('_solutionId'),'-','Solution','-',variables('_solutionId'),'-', '${ctx.solutionVersion}')))]`,
      id: `[concat(take(variables('_solutionId'),50),'-','sl','-', uniqueString(concat(variables('_solutionId'),'-','Solution','-',variables('_solutionId'),'-', '${ctx.solutionVersion}')))]`,
      icon: solution.Logo,
      contentId: "[variables('_solutionId')]",
      parentId: "[variables('_solutionId')]",
      source: ctx.source,
      author: ctx.author,
      support: ctx.support,
      dependencies: {
        operator: 'AND',
        criteria: items.map((item) => ({ kind: item.kind, contentId: item.contentId, version: item.version })),
      },
      firstPublishDate: metadata.firstPublishDate,
      providers: metadata.providers,
      categories: metadata.categories,
    },
  };
}

function mainTemplate(sources, functions) {
  const ctx = packageContext(sources);
  const items = [
    connectorItem(sources),
    ...functions.map(parserItem),
    ...sources.rules.map(ruleItem),
    ...sources.hunting.map(huntingItem),
    workbookItem(sources),
  ];
  const [main] = functions;
  // The parsers and the connector page are in place as soon as the solution is installed: the rules, hunting
  // queries and workbook all read through MCASActivity.
  const installedNow = [
    connectorResource(sources.connector, inWorkspace(`'${sources.connector.id}'`)),
    ...functions.map((fn) => ({
      ...parserResource(fn, `[concat(parameters('workspace'), '/${fn.name}')]`),
      dependsOn:
        fn === main
          ? []
          : [
              `[resourceId('Microsoft.OperationalInsights/workspaces/savedSearches', parameters('workspace'), '${main.name}')]`,
            ],
    })),
  ];
  return {
    $schema: ARM_SCHEMA,
    contentVersion: '1.0.0.0',
    metadata: {
      author: sources.solution.Author,
      comments: `Solution template for ${sources.solution.Name}, generated by sentinel/tools/buildArtifacts.mjs`,
    },
    parameters: {
      location: {
        type: 'string',
        minLength: 1,
        defaultValue: '[resourceGroup().location]',
        metadata: {
          description:
            'Not used, but needed to pass the arm-ttk test Location-Should-Not-Be-Hardcoded; resources go to workspace-location.',
        },
      },
      'workspace-location': {
        type: 'string',
        defaultValue: '',
        metadata: { description: 'Region of the Microsoft Sentinel workspace; the solution resources go there.' },
      },
      workspace: {
        type: 'string',
        defaultValue: '',
        metadata: { description: 'Name of the Log Analytics workspace where Microsoft Sentinel is set up.' },
      },
      'workbook1-name': {
        type: 'string',
        defaultValue: sources.workbookMetadata[0].title,
        minLength: 1,
        metadata: { description: 'Name for the workbook' },
      },
    },
    variables: {
      _solutionName: sources.solution.Name,
      _solutionVersion: sources.solution.Version,
      solutionId: ctx.solutionId,
      _solutionId: "[variables('solutionId')]",
      workspaceResourceId: "[resourceId('microsoft.OperationalInsights/Workspaces', parameters('workspace'))]",
    },
    resources: [
      ...items.map((item) => contentTemplate(ctx, item)),
      ...installedNow,
      contentPackage(ctx, sources, items),
    ],
  };
}

function textBlock(name, text) {
  return { name, type: 'Microsoft.Common.TextBlock', options: { text } };
}

/** A wizard step that lists content items, each as a section with the first paragraph of its description. */
function listStep(name, label, intro, itemPrefix, documents) {
  return {
    name,
    label,
    bladeTitle: label,
    elements: [
      textBlock(`${name}-text`, intro),
      ...documents.map((document, index) => ({
        name: `${itemPrefix}${index + 1}`,
        type: 'Microsoft.Common.Section',
        label: document.content.name,
        elements: [textBlock(`${itemPrefix}${index + 1}-text`, document.content.description.split('\n')[0])],
      })),
    ],
  };
}

function createUiDefinition(sources, functions) {
  const { solution, connector } = sources;
  return {
    $schema: UI_SCHEMA,
    handler: 'Microsoft.Azure.CreateUIDef',
    version: '0.1.2-preview',
    parameters: {
      config: {
        isWizard: false,
        basics: {
          description: `**Defender for Cloud Apps activities (MCAS activity connector)**\n\n${solution.Description}\n\n**Data Connectors:** 1, **Parsers:** ${functions.length}, **Workbooks:** ${sources.workbookMetadata.length}, **Analytic Rules:** ${sources.rules.length}, **Hunting Queries:** ${sources.hunting.length}`,
        },
      },
      basics: [
        {
          name: 'getLAWorkspace',
          type: 'Microsoft.Solutions.ArmApiControl',
          toolTip: 'This filters by workspaces that exist in the Resource Group selected',
          condition: '[greater(length(resourceGroup().name),0)]',
          request: {
            method: 'GET',
            path: "[concat(subscription().id,'/providers/Microsoft.OperationalInsights/workspaces?api-version=2020-08-01')]",
          },
        },
        {
          name: 'workspace',
          type: 'Microsoft.Common.DropDown',
          label: 'Workspace',
          placeholder: 'Select a workspace',
          toolTip: 'This dropdown will list only workspace that exists in the Resource Group selected',
          constraints: {
            allowedValues:
              '[map(filter(basics(\'getLAWorkspace\').value, (filter) => contains(toLower(filter.id), toLower(resourceGroup().name))), (item) => parse(concat(\'{"label":"\', item.name, \'","value":"\', item.name, \'"}\')))]',
            required: true,
          },
          visible: true,
        },
      ],
      steps: [
        {
          name: 'dataconnectors',
          label: 'Data Connectors',
          bladeTitle: 'Data Connectors',
          elements: [
            textBlock(
              'dataconnectors1-text',
              `This solution installs the data connector page for ${connector.title}. The connector itself is an Azure Function you deploy; its page in Microsoft Sentinel walks through it.`,
            ),
            textBlock(
              'dataconnectors-parser-text',
              `The solution installs ${functions.length} parsers as workspace functions: MCASActivity, which every rule, hunting query and the workbook read through, and the ASIM parsers ${functions
                .slice(1)
                .map((fn) => fn.name)
                .join(', ')}.`,
            ),
          ],
        },
        {
          name: 'workbooks',
          label: 'Workbooks',
          subLabel: { preValidation: 'Configure the workbooks', postValidation: 'Done' },
          bladeTitle: 'Workbooks',
          elements: [
            textBlock('workbooks-text', sources.workbookMetadata[0].description),
            {
              name: 'workbook1-name',
              type: 'Microsoft.Common.TextBox',
              label: 'Workbook name',
              defaultValue: sources.workbookMetadata[0].title,
              toolTip: 'Name for the workbook',
              constraints: { required: true },
            },
          ],
        },
        listStep(
          'analytics',
          'Analytics',
          'This solution installs the following analytic rule templates. After installation, create rules from them in Microsoft Sentinel > Analytics.',
          'analytic',
          sources.rules,
        ),
        listStep(
          'huntingqueries',
          'Hunting Queries',
          'This solution installs the following hunting queries. Run them in Microsoft Sentinel > Hunting.',
          'huntingquery',
          sources.hunting,
        ),
      ],
      outputs: {
        'workspace-location':
          "[first(map(filter(basics('getLAWorkspace').value, (filter) => and(contains(toLower(filter.id), toLower(resourceGroup().name)),equals(filter.name,basics('workspace')))), (item) => item.location))]",
        location: '[location()]',
        workspace: "[basics('workspace')]",
        'workbook1-name': "[steps('workbooks').workbook1-name]",
      },
    },
  };
}

/** Both package files, as objects. */
export function buildPackage(sources, functions) {
  return { mainTemplate: mainTemplate(sources, functions), createUiDefinition: createUiDefinition(sources, functions) };
}
