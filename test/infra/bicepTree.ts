// Parses Bicep templates with tree-sitter-bicep (its WebAssembly build, run by web-tree-sitter: no native addon, no
// download) and reads the few shapes the template tests need: declarations, resource bodies, properties, literals.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Language, type Node, Parser } from 'web-tree-sitter';

export type { Node };

/** The repository root, from dist/test/infra/ where this module runs. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface BicepFile {
  /** Path from the repository root, with forward slashes, e.g. infra/modules/storage.bicep. */
  path: string;
  root: Node;
}

let parser: Promise<Parser> | undefined;

async function createParser(): Promise<Parser> {
  await Parser.init();
  const wasmPath = fileURLToPath(import.meta.resolve('tree-sitter-bicep/tree-sitter-bicep.wasm'));
  const created = new Parser();
  created.setLanguage(await Language.load(await readFile(wasmPath)));
  return created;
}

export async function parseBicep(path: string, source: string): Promise<BicepFile> {
  parser ??= createParser();
  const tree = (await parser).parse(source);
  if (!tree) throw new Error(`tree-sitter returned no tree for ${path}`);
  return { path, root: tree.rootNode };
}

/** Every .bicep file under `dir` (relative to the repository root), parsed, in path order. */
export async function parseBicepFilesUnder(dir: string): Promise<BicepFile[]> {
  const entries = await readdir(join(REPO_ROOT, dir), { recursive: true });
  const paths = entries
    .filter((entry) => entry.endsWith('.bicep'))
    .map((entry) =>
      relative(REPO_ROOT, join(REPO_ROOT, dir, entry))
        .split('\\')
        .join('/'),
    )
    .sort();
  return Promise.all(paths.map(async (path) => parseBicep(path, await readFile(join(REPO_ROOT, path), 'utf8'))));
}

/** ERROR and MISSING nodes, each as "path:line:column: ERROR near `text`". Empty for a template that parses. */
export function syntaxProblems(file: BicepFile): string[] {
  const problems: string[] = [];
  const visit = (node: Node): void => {
    if (node.isError || node.isMissing) {
      const { row, column } = node.startPosition;
      const kind = node.isMissing ? `MISSING ${node.type}` : 'ERROR';
      problems.push(`${file.path}:${row + 1}:${column + 1}: ${kind} near \`${node.text.slice(0, 40)}\``);
    }
    for (const child of node.children) visit(child);
  };
  visit(file.root);
  return problems;
}

/** Top-level declarations of one node type: 'parameter_declaration', 'variable_declaration', 'resource_declaration', ... */
export function declarations(file: BicepFile, nodeType: string): Node[] {
  return file.root.namedChildren.filter((node) => node.type === nodeType);
}

/** The symbolic name of a param, var, output, resource or module declaration. */
export function nameOf(declaration: Node): string {
  const identifier = declaration.namedChildren.find((node) => node.type === 'identifier');
  if (!identifier) throw new Error(`No name in ${declaration.text.slice(0, 60)}`);
  return identifier.text;
}

/** The resource type without its API version, e.g. 'Microsoft.Storage/storageAccounts'. */
export function resourceTypeOf(resource: Node): string {
  const typeString = resource.namedChildren.find((node) => node.type === 'string');
  return (typeString ? (stringLiteral(typeString) ?? '') : '').split('@')[0] ?? '';
}

export function isExisting(resource: Node): boolean {
  return resource.children.some((node) => node.type === 'existing');
}

/** True when the declaration is deployed only under an `if (...)`. */
export function isConditional(declaration: Node): boolean {
  return declaration.namedChildren.some((node) => node.type === 'if_statement');
}

/** The body object of a resource or module, also when it is conditional. */
export function bodyOf(declaration: Node): Node | undefined {
  const direct = declaration.namedChildren.find((node) => node.type === 'object');
  if (direct) return direct;
  const condition = declaration.namedChildren.find((node) => node.type === 'if_statement');
  return condition?.namedChildren.find((node) => node.type === 'object');
}

/** The key of an object property as written (identifier or quoted string). */
export function keyOf(property: Node): string {
  const key = property.namedChildren[0];
  if (!key) return '';
  return key.type === 'string' ? (stringLiteral(key) ?? key.text) : key.text;
}

export function properties(object: Node | undefined): Node[] {
  return object?.namedChildren.filter((node) => node.type === 'object_property') ?? [];
}

/** The value of an object property: the first node after its colon that is not a comment. */
export function valueOf(property: Node): Node | undefined {
  const colon = property.children.findIndex((node) => node.type === ':');
  return property.children.slice(colon + 1).find((node) => node.isNamed && node.type !== 'comment');
}

/** The value of `key` in an object, following a dotted path such as 'properties.functionAppConfig.runtime'. */
export function property(object: Node | undefined, path: string): Node | undefined {
  let current = object;
  for (const key of path.split('.')) {
    const found = properties(current).find((candidate) => keyOf(candidate) === key);
    current = found ? valueOf(found) : undefined;
    if (!current) return undefined;
  }
  return current;
}

/** The text of a plain quoted string; undefined for anything else, including a string with ${...} in it. */
export function stringLiteral(node: Node | undefined): string | undefined {
  if (node?.type !== 'string') return undefined;
  if (node.namedChildren.some((child) => child.type === 'interpolation')) return undefined;
  return node.namedChildren
    .map((child) => (child.type === 'escape_sequence' ? child.text.slice(1) : child.text))
    .join('');
}

/** A literal's value: string, number or boolean; undefined for an expression. */
export function literal(node: Node | undefined): string | number | boolean | undefined {
  if (!node) return undefined;
  if (node.type === 'boolean') return node.text === 'true';
  if (node.type === 'number') return Number(node.text);
  return stringLiteral(node);
}

/** The expression after `=` in a param (its default), var or output declaration. */
export function assignedValue(declaration: Node): Node | undefined {
  const equals = declaration.children.findIndex((node) => node.type === '=');
  return equals < 0
    ? undefined
    : declaration.children.slice(equals + 1).find((node) => node.isNamed && node.type !== 'comment');
}

/** The decorators written above a declaration, by name, with their argument nodes. */
export function decoratorsOf(declaration: Node): Map<string, Node[]> {
  const found = new Map<string, Node[]>();
  const decorators = declaration.previousNamedSibling;
  if (decorators?.type !== 'decorators') return found;
  for (const decorator of decorators.namedChildren) {
    const call = decorator.namedChildren.find((node) => node.type === 'call_expression');
    const name = call?.childForFieldName('function')?.text;
    const args = call?.childForFieldName('arguments')?.namedChildren ?? [];
    if (name) found.set(name, args);
  }
  return found;
}

/** Every node in a subtree, depth first. */
export function descendants(node: Node): Node[] {
  const all: Node[] = [];
  const visit = (current: Node): void => {
    all.push(current);
    for (const child of current.namedChildren) visit(child);
  };
  visit(node);
  return all;
}
