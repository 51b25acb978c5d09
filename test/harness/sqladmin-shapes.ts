/**
 * The published shape of the Cloud SQL Admin API v1, read from Google's own typed client: the declaration file
 * of @googleapis/sqladmin (build/v1.d.ts), which Google generates from the API's discovery document. No npm
 * package ships the discovery document itself (googleapis and @googleapis/sqladmin ship only the generated
 * client), so the interfaces it generated are the reference: Schema$* for bodies and responses,
 * Params$Resource$* for each method's parameters, StandardParameters for those every method takes.
 *
 * Parsed with the TypeScript compiler API; nothing here is written by hand but the walk over type nodes.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';

const DECLARATIONS = require.resolve('@googleapis/sqladmin/build/v1.d.ts');

let interfaces: Map<string, ts.InterfaceDeclaration> | null = null;

function load(): Map<string, ts.InterfaceDeclaration> {
  if (interfaces) return interfaces;
  const sf = ts.createSourceFile(DECLARATIONS, readFileSync(DECLARATIONS, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = new Map<string, ts.InterfaceDeclaration>();
  const visit = (n: ts.Node): void => {
    if (ts.isInterfaceDeclaration(n)) found.set(n.name.text, n);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  if (!found.has('Schema$DatabaseInstance')) throw new Error(`no Schema$DatabaseInstance in ${DECLARATIONS}: has the client's layout changed?`);
  interfaces = found;
  return found;
}

function members(name: string): Map<string, ts.TypeNode> {
  const decl = load().get(name);
  if (!decl) throw new Error(`the Cloud SQL Admin client declares no ${name}`);
  const out = new Map<string, ts.TypeNode>();
  for (const h of decl.heritageClauses ?? []) for (const t of h.types) if (ts.isIdentifier(t.expression)) for (const [k, v] of members(t.expression.text)) out.set(k, v);
  for (const m of decl.members) if (ts.isPropertySignature(m) && m.type && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name))) out.set(m.name.text, m.type);
  return out;
}

/** Problems of `value` against the type node, each naming the field path. */
function check(value: unknown, type: ts.TypeNode, at: string, out: string[]): void {
  if (ts.isUnionTypeNode(type)) {
    if (value === null && type.types.some((t) => t.kind === ts.SyntaxKind.LiteralType && (t as ts.LiteralTypeNode).literal.kind === ts.SyntaxKind.NullKeyword)) return;
    const options = type.types.filter((t) => !(t.kind === ts.SyntaxKind.LiteralType && (t as ts.LiteralTypeNode).literal.kind === ts.SyntaxKind.NullKeyword));
    const tries = options.map((t) => {
      const o: string[] = [];
      check(value, t, at, o);
      return o;
    });
    if (!tries.some((o) => o.length === 0)) out.push(...tries[0]!);
    return;
  }
  switch (type.kind) {
    case ts.SyntaxKind.StringKeyword:
      if (typeof value !== 'string') out.push(`${at}: expected a string, got ${JSON.stringify(value)}`);
      return;
    case ts.SyntaxKind.NumberKeyword:
      if (typeof value !== 'number') out.push(`${at}: expected a number, got ${JSON.stringify(value)}`);
      return;
    case ts.SyntaxKind.BooleanKeyword:
      if (typeof value !== 'boolean') out.push(`${at}: expected a boolean, got ${JSON.stringify(value)}`);
      return;
    case ts.SyntaxKind.AnyKeyword:
    case ts.SyntaxKind.UnknownKeyword:
      return;
  }
  if (ts.isArrayTypeNode(type)) {
    if (!Array.isArray(value)) out.push(`${at}: expected an array, got ${JSON.stringify(value)}`);
    else value.forEach((v, i) => check(v, type.elementType, `${at}[${i}]`, out));
    return;
  }
  if (ts.isTypeLiteralNode(type)) {
    // { [key: string]: string } (labels, flags maps)
    const index = type.members.find(ts.isIndexSignatureDeclaration);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) out.push(`${at}: expected an object, got ${JSON.stringify(value)}`);
    else if (index) for (const [k, v] of Object.entries(value)) check(v, index.type, `${at}.${k}`, out);
    return;
  }
  if (ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName)) {
    const name = type.typeName.text;
    if (!name.startsWith('Schema$')) return; // Readable and other runtime types: not part of a JSON body
    checkSchema(value, name, at, out);
    return;
  }
  out.push(`${at}: the validator does not know the type ${ts.SyntaxKind[type.kind]}`);
}

/** Problems of a JSON value against Schema$X: unknown fields and wrong types. */
export function checkSchema(value: unknown, schema: string, at = schema, out: string[] = []): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    out.push(`${at}: expected an object (${schema}), got ${JSON.stringify(value)}`);
    return out;
  }
  const props = members(schema);
  for (const [k, v] of Object.entries(value)) {
    const t = props.get(k);
    if (!t) out.push(`${at}.${k}: not a field of ${schema}`);
    else check(v, t, `${at}.${k}`, out);
  }
  return out;
}

/**
 * Problems of a request's path and query parameters against Params$Resource$<...> (plus StandardParameters):
 * every path parameter present, no query parameter the method does not declare, numbers and booleans parsable.
 */
export function checkParams(params: string, pathParams: Record<string, string>, query: URLSearchParams): string[] {
  const out: string[] = [];
  const props = members(params);
  for (const [k, v] of Object.entries(pathParams)) {
    if (!props.has(k)) out.push(`path parameter ${k} is not a parameter of ${params}`);
    if (!v) out.push(`path parameter ${k} is empty`);
  }
  for (const [k, v] of query) {
    const t = props.get(k);
    if (!t || k === 'requestBody') {
      out.push(`query parameter ${k} is not a parameter of ${params}`);
      continue;
    }
    const kinds = ts.isUnionTypeNode(t) ? t.types.map((x) => x.kind) : [t.kind];
    if (kinds.includes(ts.SyntaxKind.NumberKeyword) && !Number.isFinite(Number(v))) out.push(`query parameter ${k}: expected a number, got ${JSON.stringify(v)}`);
    if (kinds.includes(ts.SyntaxKind.BooleanKeyword) && v !== 'true' && v !== 'false') out.push(`query parameter ${k}: expected true or false, got ${JSON.stringify(v)}`);
  }
  return out;
}

/** The request body type a method declares (Params$...requestBody), or null when it takes none. */
export function requestBodySchema(params: string): string | null {
  const t = members(params).get('requestBody');
  return t && ts.isTypeReferenceNode(t) && ts.isIdentifier(t.typeName) ? t.typeName.text : null;
}
