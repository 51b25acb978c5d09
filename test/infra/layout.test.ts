/**
 * One naming and import rule for infra/'s platform folders (aws, gcp, k8s), checked on the tree itself:
 *
 * - a file that defines a Pulumi ComponentResource holds exactly one and is named after its class, in PascalCase
 *   (`BackupVault` lives in `BackupVault.ts`);
 * - every other file is camelCase: pure builders that compute resource inputs, side by side with the components
 *   that use them in the flat platform folder (no subfolders, and nowhere in infra/ a folder named `rules`: in this
 *   repository rules are the policy pack's);
 * - a platform folder imports from itself and from the platform-neutral folders (shared/, config/) only, never from
 *   another platform, nor from platforms/ or synth/, which are built on top of it. One exception: a Kubernetes stack
 *   on EKS or GKE keeps its backups in its cloud's bucket, built from that cloud's own components, so k8s/Eks*.ts may
 *   import from aws/ and k8s/Gke*.ts from gcp/. shared/ itself imports from no platform folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');
const INFRA = path.join(ROOT, 'infra');
const PLATFORMS = ['aws', 'gcp', 'k8s'] as const;
/** Folders of infra/ any platform folder may import from: their code belongs to no platform. */
const NEUTRAL = ['shared', 'config'];
/** Kubernetes files that may build on a cloud's components: the storage of a cluster on that cloud. */
const CLUSTER_ON_CLOUD: Record<string, RegExp> = { aws: /^Eks[A-Z]/, gcp: /^Gke[A-Z]/ };

const CAMEL_CASE = /^[a-z][a-zA-Z0-9]*\.ts$/;

function rel(p: string): string {
  return path.relative(ROOT, p).split(path.sep).join('/');
}

function dirsUnder(dir: string): string[] {
  return readdirSync(dir)
    .map((name) => path.join(dir, name))
    .filter((p) => statSync(p).isDirectory())
    .flatMap((p) => [p, ...dirsUnder(p)]);
}

function tsFiles(folder: string): string[] {
  const dir = path.join(INFRA, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .map((name) => path.join(dir, name));
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
}

/** Names of the classes a file declares that extend (pulumi.)ComponentResource. */
function componentClasses(source: ts.SourceFile): string[] {
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isClassLike(node)) {
      const extendsComponent = node.heritageClauses?.some(
        (h) => h.token === ts.SyntaxKind.ExtendsKeyword && h.types.some((t) => /(^|\.)ComponentResource$/.test(t.expression.getText(source))),
      );
      if (extendsComponent) names.push(node.name?.text ?? '(anonymous class)');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

/** Relative module specifiers of a file's static imports, re-exports, dynamic import() and require() calls. */
function relativeImports(source: ts.SourceFile): string[] {
  const specs: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specs.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0]!)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) specs.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specs.filter((s) => s.startsWith('.'));
}

test('infra/ has no folder named rules, and the platform folders have no subfolders', () => {
  const rules = dirsUnder(INFRA).filter((d) => path.basename(d) === 'rules').map(rel);
  assert.deepEqual(rules, [], 'folders named rules (pure builders go beside their components, camelCase)');
  const nested = PLATFORMS.flatMap((p) => dirsUnder(path.join(INFRA, p))).map(rel);
  assert.deepEqual(nested, [], 'subfolders of a platform folder');
});

test('a component file holds exactly one ComponentResource and is named after it; every other file is camelCase', () => {
  const problems: string[] = [];
  let components = 0;
  for (const platform of PLATFORMS) {
    for (const file of tsFiles(platform)) {
      const name = path.basename(file);
      const classes = componentClasses(parse(file));
      components += classes.length;
      if (classes.length > 1) problems.push(`${rel(file)}: ${classes.length} components (${classes.join(', ')}), expected one per file`);
      else if (classes.length === 1 && name !== `${classes[0]}.ts`) problems.push(`${rel(file)}: holds ${classes[0]}, expected the name ${classes[0]}.ts`);
      else if (classes.length === 0 && !CAMEL_CASE.test(name)) problems.push(`${rel(file)}: holds no component, expected a camelCase name`);
    }
  }
  assert.deepEqual(problems, []);
  // The walk found the components at all (a parser change that saw none would pass every file as a builder).
  assert.ok(components >= 20, `expected the platform folders' components, found ${components}`);
});

test('a platform folder, and shared/, imports only from itself and the platform-neutral folders (shared/, config/)', () => {
  const problems: string[] = [];
  for (const from of [...PLATFORMS, 'shared']) {
    for (const file of tsFiles(from)) {
      for (const spec of relativeImports(parse(file))) {
        const target = path.relative(INFRA, path.resolve(path.dirname(file), spec));
        if (target.startsWith('..')) continue; // outside infra/ (the runner's contract)
        const folder = target.split(path.sep)[0]!;
        if (folder === from || NEUTRAL.includes(folder)) continue;
        const clusterOnCloud = from === 'k8s' && CLUSTER_ON_CLOUD[folder]?.test(path.basename(file));
        if (clusterOnCloud) continue;
        problems.push(`${rel(file)} imports ${spec}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
