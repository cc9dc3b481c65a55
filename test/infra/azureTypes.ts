// Checks Bicep templates against Azure's published resource type definitions (the types.json files of
// Azure/bicep-types-az, copied into test/fixtures/azure-types/): every resource's type and API version exists, every
// property written exists, is writable and has a value of its type (enum values included), required ones are given,
// and every property read from a resource or a module exists. It reads the syntax tree; a value known only when
// deploying (a resource id, a parameter without @allowed) is checked for its kind where that is declared, else passed.
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

import { evaluate, Unresolved, type Value } from './bicepEval.js';
import {
  assignedValue,
  type BicepFile,
  bodyOf,
  declarations,
  decoratorsOf,
  descendants,
  isExisting,
  keyOf,
  nameOf,
  type Node,
  properties,
  REPO_ROOT,
  stringLiteral,
  valueOf,
} from './bicepTree.js';

/** Where the copied type definitions live, from the repository root. */
export const AZURE_TYPES_DIR = 'test/fixtures/azure-types';

const REQUIRED = 1;
const READ_ONLY = 2;
const WRITE_ONLY = 4;

interface Ref {
  $ref: string;
}

interface Property {
  type: Ref;
  flags: number;
}

type TypeNode =
  | { $type: 'StringType'; minLength?: number; maxLength?: number; pattern?: string }
  | { $type: 'StringLiteralType'; value: string }
  | { $type: 'IntegerType'; minValue?: number; maxValue?: number }
  | { $type: 'BooleanType' }
  | { $type: 'AnyType' }
  | { $type: 'NullType' }
  | { $type: 'ArrayType'; itemType: Ref; minLength?: number; maxLength?: number }
  | { $type: 'UnionType'; elements: Ref[] }
  | { $type: 'ObjectType'; name: string; properties: Record<string, Property>; additionalProperties?: Ref }
  | {
      $type: 'DiscriminatedObjectType';
      name: string;
      discriminator: string;
      baseProperties: Record<string, Property>;
      elements: Record<string, Ref>;
    }
  | { $type: 'ResourceType'; name: string; body: Ref };

type ObjectTypeNode = Extract<TypeNode, { $type: 'ObjectType' }>;

interface IndexEntry {
  file: string;
  body: string;
  /**
   * Where the type can be read and deployed, as bit flags: 1 tenant, 2 management group, 4 subscription, 8 resource
   * group, 16 extension (on another resource).
   */
  readableScopes: number;
  writableScopes: number;
}

/** A type reference resolved against the file it came from. */
interface TypeRef {
  file: string;
  ref: string;
}

/** The type definitions of one folder: index.json plus the types files it names, each read once. */
export class AzureTypes {
  readonly #dir: string;
  readonly #index: Record<string, IndexEntry[]>;
  readonly #files = new Map<string, TypeNode[]>();

  constructor(dir = join(REPO_ROOT, AZURE_TYPES_DIR)) {
    this.#dir = dir;
    this.#index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Record<string, IndexEntry[]>;
  }

  /** The API versions the index holds for a resource type, e.g. ['2023-05-01', '2025-06-01']. */
  versionsOf(type: string): string[] {
    const prefix = `${type.toLowerCase()}@`;
    return Object.keys(this.#index)
      .filter((key) => key.startsWith(prefix))
      .map((key) => key.slice(prefix.length))
      .sort();
  }

  /** The body type of `Microsoft.X/y@version`, or undefined when the index has no such type and version. */
  bodyOf(typeAtVersion: string): TypeRef | undefined {
    const entry = this.#index[typeAtVersion.toLowerCase()]?.[0];
    return entry ? { file: entry.file, ref: entry.body } : undefined;
  }

  /** The scopes (bit flags, see IndexEntry) at which a type and version can be read and deployed. */
  scopesOf(typeAtVersion: string): { readable: number; writable: number } | undefined {
    const entry = this.#index[typeAtVersion.toLowerCase()]?.[0];
    return entry ? { readable: entry.readableScopes, writable: entry.writableScopes } : undefined;
  }

  /** The files the index names for these types and versions. */
  filesOf(typesAtVersion: readonly string[]): string[] {
    return [...new Set(typesAtVersion.flatMap((key) => (this.#index[key.toLowerCase()] ?? []).map((e) => e.file)))];
  }

  resolve(type: TypeRef): TypeNode {
    let nodes = this.#files.get(type.file);
    if (!nodes) {
      nodes = JSON.parse(readFileSync(join(this.#dir, 'types', type.file), 'utf8')) as TypeNode[];
      this.#files.set(type.file, nodes);
    }
    const node = nodes[Number(type.ref.replace('#/', ''))];
    if (!node) throw new Error(`${type.file}: no type ${type.ref}`);
    return node;
  }

  /** A reference found inside `from`'s file. */
  at(from: TypeRef, ref: Ref): TypeRef {
    return { file: from.file, ref: ref.$ref };
  }
}

/** `Microsoft.X/y@2024-01-01` of a resource declaration, split. */
export function typeAndVersion(resource: Node): { type: string; version: string } | undefined {
  const text = stringLiteral(resource.namedChildren.find((node) => node.type === 'string'));
  const match = /^([^@]+)@(.+)$/.exec(text ?? '');
  return match ? { type: match[1] ?? '', version: match[2] ?? '' } : undefined;
}

/** Keys a Bicep resource or module body may carry that are not part of the resource's type. */
const BICEP_RESOURCE_KEYS = new Set(['scope', 'parent', 'dependsOn']);

/** What some Bicep functions return, for checking the kind of a value built with them. */
const FUNCTION_KINDS: Readonly<Record<string, string>> = {
  string: 'string',
  guid: 'string',
  uniqueString: 'string',
  toLower: 'string',
  toUpper: 'string',
  concat: 'string',
  format: 'string',
  replace: 'string',
  resourceId: 'string',
  subscriptionResourceId: 'string',
  tenantResourceId: 'string',
  extensionResourceId: 'string',
  int: 'integer',
  length: 'integer',
  bool: 'boolean',
  empty: 'boolean',
  contains: 'boolean',
  startsWith: 'boolean',
  endsWith: 'boolean',
};

/** The kind of value a type holds (string, integer, boolean, array, object), or undefined when it may be several. */
function kindOf(types: AzureTypes, type: TypeRef): string | undefined {
  const node = types.resolve(type);
  switch (node.$type) {
    case 'StringType':
    case 'StringLiteralType':
      return 'string';
    case 'IntegerType':
      return 'integer';
    case 'BooleanType':
      return 'boolean';
    case 'ArrayType':
      return 'array';
    case 'ObjectType':
    case 'DiscriminatedObjectType':
      return 'object';
    case 'UnionType': {
      const kinds = new Set(node.elements.map((element) => kindOf(types, types.at(type, element))));
      return kinds.size === 1 ? [...kinds][0] : undefined;
    }
    default:
      return undefined;
  }
}

const SCOPE_BITS: Readonly<Record<string, number>> = {
  tenant: 1,
  managementGroup: 2,
  subscription: 4,
  resourceGroup: 8,
};

/**
 * Where a resource is deployed: its `scope:` (a scope function, or another resource for an extension resource), else
 * its file's target scope.
 */
function scopeOf(file: BicepFile, resource: Node): { name: string; bit: number } {
  const scope = findProperty(bodyOf(resource), 'scope');
  if (scope?.type === 'identifier') return { name: 'extension', bit: 16 };
  const call = scope?.type === 'call_expression' ? (scope.childForFieldName('function')?.text ?? '') : undefined;
  const target =
    call ??
    stringLiteral(
      file.root.namedChildren
        .find((node) => node.type === 'target_scope_assignment')
        ?.namedChildren.find((node) => node.type === 'string'),
    ) ??
    'resourceGroup';
  return { name: target, bit: SCOPE_BITS[target] ?? 0 };
}

function where(file: BicepFile, node: Node): string {
  return `${file.path}:${node.startPosition.row + 1}`;
}

function describeType(types: AzureTypes, type: TypeRef): string {
  const node = types.resolve(type);
  switch (node.$type) {
    case 'StringLiteralType':
      return `'${node.value}'`;
    case 'UnionType':
      return node.elements.map((element) => describeType(types, types.at(type, element))).join(' | ');
    case 'ObjectType':
    case 'DiscriminatedObjectType':
      return `object ${node.name}`;
    default:
      return node.$type.replace('Type', '').toLowerCase();
  }
}

/** The object type of a discriminated object for the given discriminator value, its base properties merged in. */
function discriminated(
  types: AzureTypes,
  type: TypeRef,
  node: Extract<TypeNode, { $type: 'DiscriminatedObjectType' }>,
  value: string,
): { type: TypeRef; object: ObjectTypeNode } | undefined {
  const element = node.elements[value];
  if (!element) return undefined;
  const elementType = types.at(type, element);
  const object = types.resolve(elementType);
  if (object.$type !== 'ObjectType') return undefined;
  return { type: elementType, object: { ...object, properties: { ...node.baseProperties, ...object.properties } } };
}

/** Checks templates against the type definitions. Each problem reads "path:line: what is wrong". */
export class TemplateChecker {
  readonly problems: string[] = [];

  constructor(
    private readonly types: AzureTypes,
    private readonly files: readonly BicepFile[],
  ) {}

  checkAll(): string[] {
    for (const file of this.files) {
      for (const resource of declarations(file, 'resource_declaration')) this.checkResource(file, resource);
      for (const module of declarations(file, 'module_declaration')) this.checkModuleParams(file, module);
      this.checkReads(file);
    }
    return this.problems;
  }

  private report(file: BicepFile, node: Node, message: string): void {
    this.problems.push(`${where(file, node)}: ${message}`);
  }

  private checkResource(file: BicepFile, resource: Node): void {
    const parsed = typeAndVersion(resource);
    const label = `resource ${nameOf(resource)}`;
    if (!parsed) {
      this.report(file, resource, `${label}: no type@apiVersion`);
      return;
    }
    const typeAtVersion = `${parsed.type}@${parsed.version}`;
    const body = this.types.bodyOf(typeAtVersion);
    if (!body) {
      const known = this.types.versionsOf(parsed.type);
      this.report(
        file,
        resource,
        `${label}: ${typeAtVersion} is not in Azure's type definitions` +
          (known.length > 0 ? ` (versions: ${known.join(', ')})` : ' (unknown type)'),
      );
      return;
    }
    const object = bodyOf(resource);
    if (!object) {
      this.report(file, resource, `${label}: no body`);
      return;
    }
    const scopes = this.types.scopesOf(typeAtVersion);
    const scope = scopeOf(file, resource);
    const allowed = isExisting(resource) ? scopes?.readable : scopes?.writable;
    if (allowed !== undefined && (allowed & scope.bit) === 0)
      this.report(
        file,
        resource,
        `${label}: ${parsed.type} cannot be ${isExisting(resource) ? 'read' : 'deployed'} at ${scope.name} scope`,
      );
    if (isExisting(resource)) {
      for (const entry of properties(object))
        if (!['name', ...BICEP_RESOURCE_KEYS].includes(keyOf(entry)))
          this.report(file, entry, `${label}: an existing resource takes only name, scope and parent`);
      return;
    }
    this.checkNode(file, object, body, label, { topLevel: true, partial: false });
  }

  /** Checks a value written in a template against the type it must have. */
  private checkNode(
    file: BicepFile,
    node: Node | undefined,
    type: TypeRef,
    path: string,
    options: { topLevel?: boolean; partial: boolean },
  ): void {
    if (!node || node.type === 'comment') return;
    const resolved = this.types.resolve(type);
    if (resolved.$type === 'AnyType') return;
    switch (node.type) {
      case 'object':
        this.checkObjectNode(file, node, type, path, options);
        return;
      case 'array': {
        if (resolved.$type === 'UnionType') {
          this.checkAgainstUnion(file, node, type, path, (member) => this.types.resolve(member).$type === 'ArrayType');
          return;
        }
        if (resolved.$type !== 'ArrayType') {
          this.report(file, node, `${path}: an array where ${describeType(this.types, type)} is expected`);
          return;
        }
        for (const item of node.namedChildren.filter((child) => child.type !== 'comment'))
          this.checkNode(file, item, this.types.at(type, resolved.itemType), `${path}[]`, { partial: options.partial });
        return;
      }
      case 'parenthesized_expression':
        this.checkNode(file, node.namedChildren[0], type, path, options);
        return;
      case 'ternary_expression': {
        const [, whenTrue, whenFalse] = node.namedChildren;
        this.checkNode(file, whenTrue, type, path, options);
        this.checkNode(file, whenFalse, type, path, options);
        return;
      }
      case 'identifier': {
        const variable = declarations(file, 'variable_declaration').find(
          (candidate) => nameOf(candidate) === node.text,
        );
        if (variable) {
          this.checkNode(file, assignedValue(variable), type, path, options);
          return;
        }
        const param = declarations(file, 'parameter_declaration').find((candidate) => nameOf(candidate) === node.text);
        if (param) this.checkParam(file, node, param, type, path);
        return;
      }
      case 'member_expression': {
        // A value read from a resource of this file: what it reads must be of a kind the property takes.
        const read = this.readOf(file, node);
        if (read) this.checkKind(file, node, kindOf(this.types, read), type, path);
        return;
      }
      case 'binary_expression':
      case 'unary_expression': {
        const operator = node.children.find((child) => !child.isNamed)?.text ?? '';
        if (['==', '!=', '&&', '||', '!', '<', '>', '<=', '>=', '=~', '!~'].includes(operator))
          this.checkKind(file, node, 'boolean', type, path);
        return;
      }
      case 'call_expression': {
        const name = node.childForFieldName('function')?.text ?? '';
        const args = node.childForFieldName('arguments')?.namedChildren ?? [];
        const returns = FUNCTION_KINDS[name];
        if (returns) {
          this.checkKind(file, node, returns, type, path);
          return;
        }
        // union() of objects: each part is checked for what it writes; only the whole could show a missing one.
        if (name === 'union') {
          for (const arg of args) this.checkNode(file, arg, type, path, { partial: true });
          return;
        }
        if (name === 'loadJsonContent') {
          const value = evaluate(file, node, {});
          if (!(value instanceof Unresolved)) this.checkValue(file, node, value, type, path);
        }
        return;
      }
      case 'string':
      case 'number':
      case 'boolean':
      case 'null': {
        const value = evaluate(file, node, {});
        if (value instanceof Unresolved) {
          // An interpolated string: its value is not known, but it is a string.
          if (!this.accepts(type, 'string'))
            this.report(file, node, `${path}: a string where ${describeType(this.types, type)} is expected`);
          return;
        }
        this.checkValue(file, node, value, type, path);
        return;
      }
    }
  }

  /** The type a member expression reads, when it starts at a resource of the file and the definitions know it. */
  private readOf(file: BicepFile, node: Node): TypeRef | undefined {
    const steps: string[] = [];
    let current: Node | null = node;
    while (current && (current.type === 'member_expression' || current.type === 'subscript_expression')) {
      steps.unshift(current.type === 'member_expression' ? (current.childForFieldName('property')?.text ?? '') : '[]');
      current = current.childForFieldName('object');
    }
    if (current?.type !== 'identifier') return undefined;
    const resource = declarations(file, 'resource_declaration').find((candidate) => nameOf(candidate) === current.text);
    if (!resource) return undefined;
    // Problems with the read itself are reported by checkReads; this only asks for its type.
    const before = this.problems.length;
    const read = this.checkResourceRead(file, node, resource, steps);
    this.problems.length = before;
    return read;
  }

  /** A value of a known kind (from a read, a function's result, a comparison) must be of a kind the type takes. */
  private checkKind(file: BicepFile, at: Node, kind: string | undefined, type: TypeRef, path: string): void {
    if (kind !== undefined && !this.accepts(type, kind))
      this.report(
        file,
        at,
        `${path}: ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} where ${describeType(this.types, type)} is expected`,
      );
  }

  /** A parameter passed as a value: its declared kind, and each @allowed value, must fit the type. */
  private checkParam(file: BicepFile, at: Node, param: Node, type: TypeRef, path: string): void {
    const declared = param.namedChildren.find((child) => child.type === 'type')?.text ?? '';
    const kinds: Record<string, string> = {
      string: 'string',
      int: 'integer',
      bool: 'boolean',
      array: 'array',
      object: 'object',
    };
    const kind = kinds[declared];
    if (kind && !this.accepts(type, kind))
      this.report(
        file,
        at,
        `${path}: parameter ${nameOf(param)} is ${declared}, where ${describeType(this.types, type)} is expected`,
      );
    for (const allowed of decoratorsOf(param).get('allowed') ?? []) {
      const value = evaluate(file, allowed, {});
      if (Array.isArray(value))
        for (const item of value) this.checkValue(file, at, item, type, `${path} (@allowed of ${nameOf(param)})`);
    }
  }

  /** Whether a type takes values of a kind (string, integer, boolean, array, object) at all. */
  private accepts(type: TypeRef, kind: string): boolean {
    const node = this.types.resolve(type);
    switch (node.$type) {
      case 'AnyType':
        return true;
      case 'UnionType':
        return node.elements.some((element) => this.accepts(this.types.at(type, element), kind));
      case 'StringType':
      case 'StringLiteralType':
        return kind === 'string';
      case 'IntegerType':
        return kind === 'integer';
      case 'BooleanType':
        return kind === 'boolean';
      case 'ArrayType':
        return kind === 'array';
      case 'ObjectType':
      case 'DiscriminatedObjectType':
        return kind === 'object';
      default:
        return false;
    }
  }

  private checkAgainstUnion(
    file: BicepFile,
    node: Node,
    type: TypeRef,
    path: string,
    fits: (member: TypeRef) => boolean,
  ): void {
    const resolved = this.types.resolve(type);
    if (resolved.$type !== 'UnionType') return;
    const member = resolved.elements.map((element) => this.types.at(type, element)).find(fits);
    if (!member) {
      this.report(file, node, `${path}: no member of ${describeType(this.types, type)} fits`);
      return;
    }
    this.checkNode(file, node, member, path, { partial: false });
  }

  private checkObjectNode(
    file: BicepFile,
    node: Node,
    type: TypeRef,
    path: string,
    options: { topLevel?: boolean; partial: boolean },
  ): void {
    let resolved = this.types.resolve(type);
    let objectType = type;
    if (resolved.$type === 'UnionType') {
      this.checkAgainstUnion(file, node, type, path, (member) => this.accepts(member, 'object'));
      return;
    }
    if (resolved.$type === 'DiscriminatedObjectType') {
      const key = resolved.discriminator;
      const given = properties(node).find((entry) => keyOf(entry) === key);
      const value = given ? evaluate(file, valueOf(given), {}) : undefined;
      if (typeof value !== 'string') {
        this.report(
          file,
          node,
          `${path}: ${key} must be a literal, one of ${Object.keys(resolved.elements).join(', ')}`,
        );
        return;
      }
      const element = discriminated(this.types, type, resolved, value);
      if (!element) {
        this.report(
          file,
          given ?? node,
          `${path}: ${key} '${value}' is not one of ${Object.keys(resolved.elements).join(', ')}`,
        );
        return;
      }
      objectType = element.type;
      resolved = element.object;
    }
    if (resolved.$type !== 'ObjectType') {
      this.report(file, node, `${path}: an object where ${describeType(this.types, type)} is expected`);
      return;
    }

    const given = new Set<string>();
    for (const entry of properties(node)) {
      const keyNode = entry.namedChildren[0];
      const value = valueOf(entry);
      if (keyNode?.type === 'string' && keyNode.namedChildren.some((child) => child.type === 'interpolation')) {
        // A key known only when deploying, e.g. '${identity.id}': only a map type takes it.
        if (resolved.additionalProperties)
          this.checkNode(file, value, this.types.at(objectType, resolved.additionalProperties), `${path}[*]`, {
            partial: options.partial,
          });
        else this.report(file, entry, `${path}: a computed key where ${resolved.name} has fixed properties`);
        continue;
      }
      const key = keyOf(entry);
      given.add(key);
      if (options.topLevel && BICEP_RESOURCE_KEYS.has(key)) continue;
      const property = resolved.properties[key];
      if (!property) {
        if (resolved.additionalProperties) {
          this.checkNode(file, value, this.types.at(objectType, resolved.additionalProperties), `${path}.${key}`, {
            partial: options.partial,
          });
          continue;
        }
        const otherCase = Object.keys(resolved.properties).find((name) => name.toLowerCase() === key.toLowerCase());
        this.report(
          file,
          entry,
          otherCase
            ? `${path}.${key}: spelled ${otherCase} in ${resolved.name}`
            : `${path}.${key}: ${resolved.name} has no property ${key}`,
        );
        continue;
      }
      if ((property.flags & READ_ONLY) !== 0) {
        this.report(file, entry, `${path}.${key}: read-only in ${resolved.name}`);
        continue;
      }
      this.checkNode(file, value, this.types.at(objectType, property.type), `${path}.${key}`, {
        partial: options.partial,
      });
    }
    if (options.partial) return;
    for (const [name, property] of Object.entries(resolved.properties))
      if ((property.flags & REQUIRED) !== 0 && (property.flags & READ_ONLY) === 0 && !given.has(name))
        this.report(file, node, `${path}: required property ${name} of ${resolved.name} is missing`);
  }

  /** A plain value (a literal, or what loadJsonContent reads) against a type. */
  private checkValue(file: BicepFile, at: Node, value: Value, type: TypeRef, path: string): void {
    const node = this.types.resolve(type);
    const fail = (): void =>
      this.report(file, at, `${path}: ${JSON.stringify(value)} is not ${describeType(this.types, type)}`);
    if (value instanceof Unresolved || value === null) return;
    switch (node.$type) {
      case 'AnyType':
        return;
      case 'UnionType': {
        const members = node.elements.map((element) => this.types.at(type, element));
        // An open enum (known values, or any string) takes any string in Azure; a literal within two edits of a known
        // value it is not (`Enable` for `Enabled`, `tls1_2` for `TLS1_2`) is a typo, and fails here, stricter than
        // Bicep.
        const known = members
          .map((member) => this.types.resolve(member))
          .flatMap((member) => (member.$type === 'StringLiteralType' ? [member.value] : []));
        if (typeof value === 'string' && known.length > 0 && !known.includes(value)) {
          const near = known.find((candidate) => editDistance(candidate.toLowerCase(), value.toLowerCase()) <= 2);
          const open = members.some((member) => this.types.resolve(member).$type === 'StringType');
          if (near !== undefined || !open) fail();
          return;
        }
        const fits = members.some((member) => {
          const before = this.problems.length;
          this.checkValue(file, at, value, member, path);
          const ok = this.problems.length === before;
          this.problems.length = before;
          return ok;
        });
        if (!fits) fail();
        return;
      }
      case 'StringLiteralType':
        if (value !== node.value) fail();
        return;
      case 'StringType':
        if (typeof value !== 'string') {
          fail();
          return;
        }
        if (node.minLength !== undefined && value.length < node.minLength) fail();
        else if (node.maxLength !== undefined && value.length > node.maxLength) fail();
        else if (node.pattern !== undefined && !safeRegExp(node.pattern)?.test(value)) fail();
        return;
      case 'IntegerType':
        if (typeof value !== 'number' || !Number.isInteger(value)) {
          fail();
          return;
        }
        if (
          (node.minValue !== undefined && value < node.minValue) ||
          (node.maxValue !== undefined && value > node.maxValue)
        )
          fail();
        return;
      case 'BooleanType':
        if (typeof value !== 'boolean') fail();
        return;
      case 'ArrayType':
        if (!Array.isArray(value)) {
          fail();
          return;
        }
        value.forEach((item, index) =>
          this.checkValue(file, at, item, this.types.at(type, node.itemType), `${path}[${index}]`),
        );
        return;
      case 'ObjectType':
      case 'DiscriminatedObjectType': {
        if (typeof value !== 'object' || Array.isArray(value)) {
          fail();
          return;
        }
        let objectType = type;
        let object: ObjectTypeNode;
        if (node.$type === 'DiscriminatedObjectType') {
          const kind = value[node.discriminator];
          const element = typeof kind === 'string' ? discriminated(this.types, type, node, kind) : undefined;
          if (!element) {
            fail();
            return;
          }
          objectType = element.type;
          object = element.object;
        } else {
          object = node;
        }
        for (const [key, item] of Object.entries(value)) {
          const property = object.properties[key];
          if (property && (property.flags & READ_ONLY) === 0)
            this.checkValue(file, at, item, this.types.at(objectType, property.type), `${path}.${key}`);
          else if (!property && object.additionalProperties)
            this.checkValue(file, at, item, this.types.at(objectType, object.additionalProperties), `${path}.${key}`);
          else
            this.report(file, at, `${path}.${key}: ${property ? 'read-only' : 'no such property'} in ${object.name}`);
        }
        for (const [name, property] of Object.entries(object.properties))
          if ((property.flags & REQUIRED) !== 0 && (property.flags & READ_ONLY) === 0 && !(name in value))
            this.report(file, at, `${path}: required property ${name} of ${object.name} is missing`);
        return;
      }
      default:
        return;
    }
  }

  /** `module.params` against the module file's parameters: each passed exists, each without default is passed. */
  private checkModuleParams(file: BicepFile, module: Node): void {
    const target = this.moduleFile(file, module);
    if (!target) {
      this.report(file, module, `module ${nameOf(module)}: its file is not among the templates`);
      return;
    }
    const passed = properties(findProperty(bodyOf(module), 'params')).map(keyOf);
    const declared = declarations(target, 'parameter_declaration');
    for (const name of passed)
      if (!declared.some((param) => nameOf(param) === name))
        this.report(file, module, `module ${nameOf(module)}: ${target.path} has no parameter ${name}`);
    for (const param of declared)
      if (assignedValue(param) === undefined && !passed.includes(nameOf(param)))
        this.report(file, module, `module ${nameOf(module)}: required parameter ${nameOf(param)} is not passed`);
  }

  private moduleFile(file: BicepFile, module: Node): BicepFile | undefined {
    const path = stringLiteral(module.namedChildren.find((child) => child.type === 'string'));
    if (!path) return undefined;
    const target = posix.normalize(posix.join(posix.dirname(file.path), path));
    return this.files.find((candidate) => candidate.path === target);
  }

  /** Every `symbol.a.b` that starts at a resource or module of the file, walked through its type or outputs. */
  private checkReads(file: BicepFile): void {
    const resources = new Map(declarations(file, 'resource_declaration').map((node) => [nameOf(node), node]));
    const modules = new Map(declarations(file, 'module_declaration').map((node) => [nameOf(node), node]));
    for (const node of descendants(file.root)) {
      if (node.type !== 'member_expression') continue;
      const parent = node.parent;
      // Only whole chains: a.b.c, not its part a.b.
      if (
        (parent?.type === 'member_expression' || parent?.type === 'subscript_expression') &&
        parent.childForFieldName('object')?.id === node.id
      )
        continue;
      const steps: string[] = [];
      let current: Node | null = node;
      while (current && (current.type === 'member_expression' || current.type === 'subscript_expression')) {
        steps.unshift(
          current.type === 'member_expression' ? (current.childForFieldName('property')?.text ?? '') : '[]',
        );
        current = current.childForFieldName('object');
      }
      if (current?.type !== 'identifier') continue;
      const resource = resources.get(current.text);
      if (resource) this.checkResourceRead(file, node, resource, steps);
      const module = modules.get(current.text);
      if (module) this.checkModuleRead(file, node, module, steps);
    }
  }

  /**
   * Walks a read such as `storage.properties.primaryEndpoints.blob` through the resource's type: the type read, or
   * undefined when the read is wrong (reported) or goes where the definitions say nothing (AnyType).
   */
  private checkResourceRead(file: BicepFile, at: Node, resource: Node, steps: string[]): TypeRef | undefined {
    const parsed = typeAndVersion(resource);
    let type = parsed && this.types.bodyOf(`${parsed.type}@${parsed.version}`);
    if (!type) return undefined; // reported with the resource
    const read = `${nameOf(resource)}.${steps.join('.')}`;
    for (const step of steps) {
      let node = this.types.resolve(type);
      if (node.$type === 'DiscriminatedObjectType') {
        const name = stringLiteral(bodyOf(resource) && findProperty(bodyOf(resource), 'name'));
        const element = name === undefined ? undefined : discriminated(this.types, type, node, name);
        if (!element) {
          this.report(file, at, `${read}: cannot tell which kind of ${node.name} this is`);
          return undefined;
        }
        type = element.type;
        node = element.object;
      }
      if (node.$type === 'AnyType') return undefined;
      if (step === '[]') {
        if (node.$type !== 'ArrayType') {
          this.report(file, at, `${read}: indexes a ${describeType(this.types, type)}`);
          return undefined;
        }
        type = this.types.at(type, node.itemType);
        continue;
      }
      if (node.$type !== 'ObjectType') {
        this.report(file, at, `${read}: ${step} read from a ${describeType(this.types, type)}`);
        return undefined;
      }
      const property = node.properties[step];
      if (property) {
        if ((property.flags & WRITE_ONLY) !== 0) {
          this.report(file, at, `${read}: ${step} is write-only in ${node.name}`);
          return undefined;
        }
        type = this.types.at(type, property.type);
      } else if (node.additionalProperties) {
        type = this.types.at(type, node.additionalProperties);
      } else {
        const otherCase = Object.keys(node.properties).find((name) => name.toLowerCase() === step.toLowerCase());
        this.report(
          file,
          at,
          otherCase
            ? `${read}: ${step} is spelled ${otherCase} in ${node.name}`
            : `${read}: ${node.name} has no property ${step}`,
        );
        return undefined;
      }
    }
    return type;
  }

  private checkModuleRead(file: BicepFile, at: Node, module: Node, steps: string[]): void {
    if (steps[0] === 'name') return;
    if (steps[0] !== 'outputs' || steps[1] === undefined) {
      this.report(file, at, `${nameOf(module)}.${steps.join('.')}: a module has name and outputs only`);
      return;
    }
    const target = this.moduleFile(file, module);
    if (target && !declarations(target, 'output_declaration').some((output) => nameOf(output) === steps[1]))
      this.report(file, at, `${nameOf(module)}.outputs.${steps[1]}: ${target.path} has no such output`);
  }
}

function findProperty(object: Node | undefined, key: string): Node | undefined {
  const entry = properties(object).find((candidate) => keyOf(candidate) === key);
  return entry ? valueOf(entry) : undefined;
}

/** Levenshtein distance, for telling a typo of a known value from a value of its own. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Azure's patterns are .NET regular expressions; the few that JavaScript cannot read are skipped. */
function safeRegExp(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

/** Every problem of the templates against the type definitions; empty when they hold up. */
export function checkTemplates(types: AzureTypes, files: readonly BicepFile[]): string[] {
  return new TemplateChecker(types, files).checkAll();
}
