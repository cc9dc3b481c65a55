// Evaluates the deployment-time-free part of a Bicep expression (literals, params, vars, loadJsonContent, union,
// contains, map and filter with a lambda, ternaries, `??`, ...) to plain values, so that tests can check what a template would send for given parameters.
// Anything known only during a deployment (a resource's id, a module's output) stays an Unresolved with its text.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';

import {
  assignedValue,
  type BicepFile,
  declarations,
  keyOf,
  nameOf,
  type Node,
  properties,
  REPO_ROOT,
  valueOf,
} from './bicepTree.js';

/** A value only a deployment knows, such as `endpoint.id` or `dataCollection.outputs.ruleImmutableId`. */
export class Unresolved {
  constructor(readonly text: string) {}
}

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value } | Unresolved;

/** Values of a file's params; a param left out takes its default, or is Unresolved when it has none. */
export type ParamValues = Readonly<Record<string, Value>>;

/** Values of lambda parameters in scope. */
type Locals = Readonly<Record<string, Value>>;

function isObject(value: Value | undefined): value is { [key: string]: Value } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Unresolved);
}

/** Repository-relative path of a file named relative to a Bicep file, as loadJsonContent resolves it. */
export function resolveFromBicepFile(file: BicepFile, relativePath: string): string {
  return posix.normalize(posix.join(posix.dirname(file.path), relativePath));
}

function call(file: BicepFile, name: string, args: Value[], text: string): Value {
  if (args.some((arg) => arg instanceof Unresolved)) return new Unresolved(text);
  const [first, second] = args;
  switch (name) {
    case 'loadJsonContent':
      if (typeof first !== 'string') break;
      return JSON.parse(readFileSync(posix.join(REPO_ROOT, resolveFromBicepFile(file, first)), 'utf8')) as Value;
    case 'union':
      if (args.every(isObject)) return Object.assign({}, ...args) as Value;
      if (args.every((arg) => Array.isArray(arg))) return [...new Set(args.flat())];
      break;
    case 'contains':
      if (Array.isArray(first)) return first.includes(second ?? null);
      if (isObject(first)) return typeof second === 'string' && second in first;
      return typeof first === 'string' && typeof second === 'string' && first.includes(second);
    case 'empty':
      return (
        first === '' ||
        (Array.isArray(first) && first.length === 0) ||
        (isObject(first) && Object.keys(first).length === 0)
      );
    case 'string':
      // ARM's string() writes booleans as True and False.
      return typeof first === 'boolean'
        ? first
          ? 'True'
          : 'False'
        : typeof first === 'string'
          ? first
          : JSON.stringify(first);
    case 'split':
      if (typeof first !== 'string' || typeof second !== 'string') break;
      return first.split(second);
    case 'last':
      if (Array.isArray(first)) return first.at(-1) ?? null;
      if (typeof first !== 'string') break;
      return first.slice(-1);
    case 'toLower':
      return typeof first === 'string' ? first.toLowerCase() : new Unresolved(text);
    case 'toUpper':
      return typeof first === 'string' ? first.toUpperCase() : new Unresolved(text);
  }
  return new Unresolved(text);
}

function binary(operator: string, left: Value, right: Value, text: string): Value {
  if (left instanceof Unresolved || right instanceof Unresolved) return new Unresolved(text);
  switch (operator) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '&&':
      return left === true && right === true;
    case '||':
      return left === true || right === true;
  }
  return new Unresolved(text);
}

/** `map(list, x => ...)` and `filter(list, x => ...)`: the lambda evaluated for each item, its parameter bound to it. */
function lambdaCall(
  file: BicepFile,
  name: string,
  [listNode, lambda]: Node[],
  params: ParamValues,
  locals: Locals,
  text: string,
): Value {
  const list = evaluate(file, listNode, params, locals);
  const [parameter, body] = lambda?.namedChildren ?? [];
  if (!Array.isArray(list) || parameter?.type !== 'identifier') return new Unresolved(text);
  const results = list.map((item) => evaluate(file, body, params, { ...locals, [parameter.text]: item }));
  if (name === 'map') return results;
  if (name === 'filter') {
    if (results.some((result) => typeof result !== 'boolean')) return new Unresolved(text);
    return list.filter((_, index) => results[index] === true);
  }
  return new Unresolved(text);
}

/**
 * The value of an expression in `file` with the given param values. Conditions must resolve: a ternary on a
 * deployment-time value throws, so that a test names the parameters it depends on.
 */
export function evaluate(file: BicepFile, node: Node | undefined, params: ParamValues, locals: Locals = {}): Value {
  if (!node) throw new Error(`${file.path}: nothing to evaluate`);
  const recurse = (child: Node | undefined): Value => evaluate(file, child, params, locals);
  switch (node.type) {
    case 'string': {
      const parts = node.namedChildren.map((child) =>
        child.type === 'interpolation'
          ? recurse(child.namedChildren[0])
          : child.type === 'escape_sequence'
            ? child.text.slice(1)
            : child.text,
      );
      return parts.some((part) => part instanceof Unresolved) ? new Unresolved(node.text) : parts.map(String).join('');
    }
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    case 'null':
      return null;
    case 'parenthesized_expression':
      return recurse(node.namedChildren[0]);
    case 'array':
      return node.namedChildren.filter((child) => child.type !== 'comment').map(recurse);
    case 'object': {
      const result: { [key: string]: Value } = {};
      for (const entry of properties(node)) {
        const keyNode = entry.namedChildren[0];
        const key = keyNode?.type === 'string' ? recurse(keyNode) : keyOf(entry);
        if (typeof key !== 'string') throw new Error(`${file.path}: key ${keyNode?.text} is known only when deploying`);
        result[key] = recurse(valueOf(entry));
      }
      return result;
    }
    case 'identifier': {
      const name = node.text;
      if (name in locals) return locals[name] ?? null;
      const param = declarations(file, 'parameter_declaration').find((candidate) => nameOf(candidate) === name);
      if (param) {
        if (name in params) return params[name] ?? null;
        const fallback = assignedValue(param);
        return fallback ? recurse(fallback) : new Unresolved(name);
      }
      const variable = declarations(file, 'variable_declaration').find((candidate) => nameOf(candidate) === name);
      if (variable) return recurse(assignedValue(variable));
      const module = declarations(file, 'module_declaration').find((candidate) => nameOf(candidate) === name);
      // A module whose condition is false is not deployed: it is null, which `module.?outputs.x ?? fallback` handles.
      if (module && conditionOf(file, module, params) === false) return null;
      return new Unresolved(name);
    }
    case 'member_expression': {
      const base = recurse(node.childForFieldName('object') ?? node.namedChildren[0]);
      const key = node.childForFieldName('property')?.text ?? node.namedChildren[1]?.text ?? '';
      // `a.?b.c`: null when a is null; a conditional module that is not deployed reads as null.
      if (base === null && node.text.includes('.?')) return null;
      return isObject(base) && key in base ? (base[key] ?? null) : new Unresolved(node.text);
    }
    case 'subscript_expression': {
      const [baseNode, indexNode] = node.namedChildren;
      const base = recurse(baseNode);
      const index = recurse(indexNode);
      if (Array.isArray(base) && typeof index === 'number') return base[index] ?? null;
      if (isObject(base) && typeof index === 'string' && index in base) return base[index] ?? null;
      return new Unresolved(node.text);
    }
    case 'call_expression': {
      const name = node.childForFieldName('function')?.text ?? '';
      const argNodes = node.childForFieldName('arguments')?.namedChildren ?? [];
      if (argNodes.some((arg) => arg.type === 'lambda_expression'))
        return lambdaCall(file, name, argNodes, params, locals, node.text);
      const args = argNodes.map(recurse);
      return call(file, name, args, node.text);
    }
    case 'unary_expression': {
      const operand = recurse(node.namedChildren[0]);
      if (node.children[0]?.text !== '!' || typeof operand !== 'boolean') return new Unresolved(node.text);
      return !operand;
    }
    case 'binary_expression': {
      const [left, operator, right] = node.children;
      if (operator?.text === '??') {
        const value = recurse(left);
        return value === null ? recurse(right) : value;
      }
      return binary(operator?.text ?? '', recurse(left), recurse(right), node.text);
    }
    case 'ternary_expression': {
      const [condition, whenTrue, whenFalse] = node.namedChildren;
      const test = recurse(condition);
      if (typeof test !== 'boolean')
        throw new Error(`${file.path}: condition ${condition?.text} is not known before deploying`);
      return recurse(test ? whenTrue : whenFalse);
    }
  }
  return new Unresolved(node.text);
}

/** A declaration's `if (...)` condition, evaluated; true for an unconditional one. */
export function conditionOf(file: BicepFile, declaration: Node, params: ParamValues): Value {
  const condition = declaration.namedChildren.find((node) => node.type === 'if_statement');
  return condition
    ? evaluate(
        file,
        condition.namedChildren.find((node) => node.type !== 'object'),
        params,
      )
    : true;
}
