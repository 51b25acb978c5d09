/**
 * The documentation as a whole: README stays what a newcomer reads first, every relative link in README and
 * docs/ lands on a file (and a heading) that exists, and nothing in the repository points at documents that live
 * outside it: a clone has only what is in it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './dockerfile-model';

const README_MAX_LINES = 180;

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');

/** README.md and every docs/*.md, relative to the repository root. */
function markdownFiles(): string[] {
  const docs = readdirSync(path.join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

/** Files of the repository: tracked and untracked but not ignored (so no node_modules, .git or local backups). */
function repositoryFiles(): string[] {
  let listed: string[];
  try {
    listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 })
      .split('\0')
      .filter(Boolean);
  } catch {
    listed = walk('');
  }
  return listed.filter((f) => f.split('/')[0] !== 'node_modules' && existsSync(path.join(REPO_ROOT, f)) && lstatSync(path.join(REPO_ROOT, f)).isFile());
}

/** Without git: every file but node_modules, .git and what .gitignore keeps out of a clone. */
function walk(dir: string): string[] {
  const skip = new Set(['node_modules', '.git', 'dist', '.lifeboat', '.cache']);
  const out: string[] = [];
  for (const name of readdirSync(path.join(REPO_ROOT, dir))) {
    if (skip.has(name)) continue;
    const rel = dir ? `${dir}/${name}` : name;
    if (lstatSync(path.join(REPO_ROOT, rel)).isDirectory()) out.push(...walk(rel));
    else out.push(rel);
  }
  return out;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of withoutCode(markdown).matchAll(/^#{1,6} (.+)$/gm)) out.add(slug(m[1]!));
  return out;
}

/** The text without fenced code blocks, where brackets are shell or TypeScript, not links. */
function withoutCode(markdown: string): string {
  return markdown.replace(/^\s*```[\s\S]*?^\s*```/gm, '');
}

test(`README.md is at most ${README_MAX_LINES} lines`, () => {
  const lines = read('README.md').split('\n').length - 1;
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines: move the detail into docs/`);
});

test('README.md links the design, the platform guides and the disaster runbook', () => {
  const readme = read('README.md');
  for (const doc of ['docs/design.md', 'docs/gcp.md', 'docs/aws.md', 'docs/kubernetes.md', 'docs/disaster-recovery.md']) {
    assert.ok(readme.includes(`](${doc})`), `README.md does not link ${doc}`);
  }
});

test('every relative link in README.md and docs/*.md points at a file that exists, and at a heading it has', () => {
  let checked = 0;
  for (const file of markdownFiles()) {
    const text = withoutCode(read(file));
    for (const m of text.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [ref, anchor] = target.split('#') as [string, string | undefined];
      const resolved = ref ? path.join(path.dirname(path.join(REPO_ROOT, file)), ref) : path.join(REPO_ROOT, file);
      assert.ok(existsSync(resolved), `${file}: the link ${target} points at nothing`);
      assert.ok(!path.relative(REPO_ROOT, resolved).startsWith('..'), `${file}: the link ${target} leaves the repository`);
      if (anchor && resolved.endsWith('.md')) {
        assert.ok(anchors(readFileSync(resolved, 'utf8')).has(anchor), `${file}: ${target} names no heading of ${path.relative(REPO_ROOT, resolved)}`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 10, `checked ${checked} links`);
});

test('nothing in the repository refers to documents outside it', () => {
  // Built from parts, so that this file does not name them itself.
  const outsideDocs = ['DESIGN', 'ENVIRONMENT'].map((n) => `${n}.md`);
  const sharedFolder = 'shared';
  const problems: string[] = [];
  const files = repositoryFiles();
  assert.ok(files.length > 100, `found ${files.length} files`);
  for (const file of files) {
    const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
    for (const name of outsideDocs) if (text.includes(name)) problems.push(`${file} names ${name}`);
    // `../shared` is fine where it stays inside the repository (a folder named shared beside the file's own).
    for (const m of text.matchAll(new RegExp(`((?:\\.\\./)+)${sharedFolder}\\b`, 'g'))) {
      const resolved = path.join(path.dirname(path.join(REPO_ROOT, file)), m[1]!, sharedFolder);
      if (path.relative(REPO_ROOT, resolved).startsWith('..')) problems.push(`${file} points at ${m[0]} outside the repository`);
    }
  }
  assert.deepEqual(problems, []);
});

test('code, tests and docs cite no issue numbers: they say what a thing does and why', () => {
  // Built from parts, so that this file does not match itself.
  const citation = new RegExp(['\\bissues?', '\\s+#?\\d+\\b'].join(''), 'i');
  const problems: string[] = [];
  for (const file of repositoryFiles()) {
    if (!/\.(ts|mjs|js|md|ya?ml|json)$|Dockerfile$|\.ci\/run$/.test(file) || file === 'package-lock.json') continue;
    const lines = readFileSync(path.join(REPO_ROOT, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (citation.test(line)) problems.push(`${file}:${i + 1}: ${line.trim().slice(0, 100)}`);
    });
  }
  assert.deepEqual(problems, []);
});
