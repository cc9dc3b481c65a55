// A model of the deployment templates for tests: main.bicep's modules with their parameters evaluated for given
// main parameters, the outputs main reads from them, and resources evaluated in their files.
import assert from 'node:assert/strict';

import { conditionOf, evaluate, type ParamValues, resolveFromBicepFile, Unresolved, type Value } from './bicepEval.js';
import {
  assignedValue,
  type BicepFile,
  bodyOf,
  declarations,
  nameOf,
  type Node,
  property,
  stringLiteral,
} from './bicepTree.js';

const SENTINEL_WORKSPACE =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-sentinel/providers/Microsoft.OperationalInsights/workspaces/law-sentinel';

/** main.bicep's required parameters, with values of the right shape. */
export const MAIN_PARAMS: ParamValues = {
  environmentName: 'mcas-test',
  location: 'westeurope',
  sentinelWorkspaceResourceId: SENTINEL_WORKSPACE,
  mcasPortalUrl: 'https://contoso.us2.portal.cloudappsecurity.com',
};

export function isObject(value: Value | undefined): value is { [key: string]: Value } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Unresolved);
}

export function asObject(value: Value | undefined, what: string): { [key: string]: Value } {
  assert.ok(isObject(value), `${what} is not an object: ${JSON.stringify(value)}`);
  return value;
}

export function asString(value: Value | undefined, what: string): string {
  assert.ok(typeof value === 'string', `${what} is not a string: ${JSON.stringify(value)}`);
  return value;
}

/** Helpers over the parsed templates, which `files()` gives once a test's `before` has parsed them. */
export function templateModel(files: () => readonly BicepFile[]) {
  function fileAt(path: string): BicepFile {
    const found = files().find((file) => file.path === path);
    assert.ok(found, `${path} is missing`);
    return found;
  }

  function declared(file: BicepFile, kind: string, name: string): Node {
    const found = declarations(file, kind).find((node) => nameOf(node) === name);
    assert.ok(found, `${file.path}: no ${kind} ${name}`);
    return found;
  }

  /** A module of main.bicep: its file, whether it deploys, and its params evaluated for main's parameters. */
  function mainModule(
    name: string,
    mainParams: ParamValues,
  ): { file: BicepFile; deploys: Value; params: ParamValues; node: Node } {
    const main = fileAt('infra/main.bicep');
    const node = declared(main, 'module_declaration', name);
    const path = stringLiteral(node.namedChildren.find((child) => child.type === 'string'));
    assert.ok(path, `module ${name} has no plain path`);
    const params = asObject(evaluate(main, property(bodyOf(node), 'params'), mainParams), `module ${name} params`);
    return {
      file: fileAt(resolveFromBicepFile(main, path)),
      deploys: conditionOf(main, node, mainParams),
      params,
      node,
    };
  }

  /** A module output that main.bicep reads (`<module>.outputs.<name>`), evaluated for main's parameters. */
  function moduleOutput(reference: Value | undefined, mainParams: ParamValues): Value {
    const match = reference instanceof Unresolved ? /^(\w+)\.\??outputs\.(\w+)$/.exec(reference.text) : null;
    assert.ok(match, `expected <module>.outputs.<name> or <module>.?outputs.<name>, got ${JSON.stringify(reference)}`);
    const [, moduleName = '', outputName = ''] = match;
    const { file, params } = mainModule(moduleName, mainParams);
    const output = declarations(file, 'output_declaration').find((node) => nameOf(node) === outputName);
    assert.ok(output, `${file.path}: no output ${outputName}`);
    return evaluate(file, assignedValue(output), params);
  }

  /** The evaluated body of a resource (name, location, properties, ...) and whether it deploys, for given params. */
  function resourceIn(
    file: BicepFile,
    name: string,
    params: ParamValues,
  ): { deploys: Value; body: { [key: string]: Value } } {
    const node = declared(file, 'resource_declaration', name);
    return {
      deploys: conditionOf(file, node, params),
      body: asObject(evaluate(file, bodyOf(node), params), `${file.path} ${name}`),
    };
  }

  return { fileAt, declared, asObject, mainModule, moduleOutput, resourceIn };
}
