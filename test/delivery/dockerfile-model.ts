/**
 * The runner's Dockerfile as data, for structural assertions: stages with their instructions (keyword and
 * argument text, continuation lines joined), parsed by dockerfile-ast (the parser dockerfile-utils lints with).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const DOCKERFILE_PATH = path.join(REPO_ROOT, 'runner', 'Dockerfile');

export interface DockerInstruction {
  keyword: string;
  /** Arguments with continuation lines joined, as one string. */
  text: string;
  /** Arguments as the parser splits them (JSON form: the array's strings). */
  args: string[];
  /** Flags such as COPY's `--from` and `--chown`, by name without dashes. */
  flags: Record<string, string>;
  line: number;
}

export interface DockerStage {
  name: string | null;
  /** The FROM image reference as written (may be `${NODE_IMAGE}`). */
  from: string;
  instructions: DockerInstruction[];
}

export interface DockerfileModel {
  content: string;
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: DockerStage[];
  finalStage: DockerStage;
}

export function readDockerfile(file = DOCKERFILE_PATH): DockerfileModel {
  return parseDockerfile(readFileSync(file, 'utf8'));
}

export function parseDockerfile(content: string): DockerfileModel {
  const ast = DockerfileParser.parse(content);
  const globalArgs: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const ins of ast.getInstructions()) {
    const keyword = ins.getKeyword().toUpperCase();
    const jsonStrings = (ins as unknown as { getJSONStrings?: () => { getJSONValue(): string }[] }).getJSONStrings?.();
    const args = jsonStrings && jsonStrings.length > 0
      ? jsonStrings.map((s) => s.getJSONValue())
      : ins.getArguments().map((a) => a.getValue());
    const flagList = (ins as unknown as { getFlags?: () => { getName(): string; getValue(): string | null }[] })
      .getFlags?.() ?? [];
    const flags = Object.fromEntries(flagList.map((f) => [f.getName(), f.getValue() ?? '']));
    const instruction: DockerInstruction = {
      keyword,
      flags,
      text: (ins.getArgumentsContent() ?? '').replace(/\\\r?\n/g, ' ').replace(/\s+/g, ' ').trim(),
      args,
      line: ins.getRange().start.line + 1,
    };
    if (keyword === 'FROM') {
      const asIndex = args.findIndex((a) => a.toUpperCase() === 'AS');
      stages.push({ name: asIndex >= 0 ? args[asIndex + 1] ?? null : null, from: args[0] ?? '', instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) {
      if (keyword === 'ARG') {
        for (const a of args) {
          const eq = a.indexOf('=');
          if (eq > 0) globalArgs[a.slice(0, eq)] = a.slice(eq + 1).replace(/^"(.*)"$/, '$1');
          else globalArgs[a] = '';
        }
      }
      continue;
    }
    stage.instructions.push(instruction);
  }
  const finalStage = stages[stages.length - 1];
  if (!finalStage) throw new Error('the Dockerfile has no FROM');
  return { content, globalArgs, stages, finalStage };
}

export function stageNamed(model: DockerfileModel, name: string): DockerStage {
  const s = model.stages.find((x) => x.name === name);
  if (!s) throw new Error(`no build stage named ${name}; stages: ${model.stages.map((x) => x.name).join(', ')}`);
  return s;
}

export function instructionsOf(stage: DockerStage, keyword: string): DockerInstruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** ARG defaults declared inside a stage. */
export function stageArgs(stage: DockerStage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ins of instructionsOf(stage, 'ARG')) {
    const eq = ins.text.indexOf('=');
    if (eq > 0) out[ins.text.slice(0, eq)] = ins.text.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    else out[ins.text] = '';
  }
  return out;
}

/** Packages removed from the image's node_modules in the deps stage (`npm uninstall ... <pkgs>`). */
export function packagesExcludedFromImage(model: DockerfileModel): string[] {
  const deps = stageNamed(model, 'deps');
  const out: string[] = [];
  for (const run of instructionsOf(deps, 'RUN')) {
    for (const cmd of run.text.split('&&')) {
      const words = cmd.trim().split(/\s+/);
      if (words[0] === 'npm' && words[1] === 'uninstall') out.push(...words.slice(2).filter((w) => !w.startsWith('-')));
    }
  }
  return out;
}

/** The environment the final stage sets (its ENV instructions, later ones winning), as the runner sees it. */
export function imageEnv(model: DockerfileModel): Record<string, string> {
  return Object.fromEntries(
    instructionsOf(model.finalStage, 'ENV').flatMap((e) =>
      e.args.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1).replace(/^"(.*)"$/, '$1')] as [string, string]),
    ),
  );
}

/** The ENTRYPOINT of the final stage (JSON form), e.g. ['/usr/bin/tini', '--', 'node', '/app/dist/runner/cli.js']. */
export function entrypoint(model: DockerfileModel): string[] {
  const eps = instructionsOf(model.finalStage, 'ENTRYPOINT');
  const ep = eps[eps.length - 1];
  if (!ep) throw new Error('the final stage has no ENTRYPOINT');
  return ep.args;
}
