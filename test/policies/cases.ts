/**
 * Table-driven rule tests: each case takes the happy fixture, changes one resource, and asserts which rule fires
 * (or, for unknown values and waivers, that it does not).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RecordedResource } from '../../infra/synth/recorded';
import { runPolicies, type RunPoliciesOptions } from '../../policies/run';
import { clone } from './fixtures/build';

export interface RuleCase {
  /** What the change is, e.g. "publicAccessPrevention inherited". */
  title: string;
  rule: string;
  /** Logical name of the resource changed (the one the violation must point at, unless `urnOf` says otherwise). */
  target: string;
  change: (inputs: Record<string, unknown>, all: RecordedResource[]) => void;
  /** Resource the violation is reported on, when not the target (stack rules). */
  reportedOn?: string | null;
  /** true: the change must NOT produce a violation of `rule` (unknown values, waivers, ephemeral stacks). */
  passes?: boolean;
  /** The message must match. */
  message?: RegExp;
  opts?: RunPoliciesOptions;
}

export async function violationsAfter(fixture: () => RecordedResource[], c: RuleCase) {
  const resources = clone(fixture());
  const target = resources.find((r) => r.name === c.target);
  assert.ok(target, `fixture has no resource named ${c.target}`);
  c.change(target.inputs, resources);
  return { resources, target, violations: await runPolicies(resources, c.opts) };
}

export function defineRuleCases(fixtureName: string, fixture: () => RecordedResource[], cases: RuleCase[]): void {
  test(`${fixtureName}: the happy fixture passes the whole pack`, async () => {
    const violations = await runPolicies(fixture());
    assert.deepEqual(violations, []);
  });
  for (const c of cases) {
    test(`${c.rule}: ${c.title} ${c.passes ? 'passes' : 'fails'}`, async () => {
      const { resources, target, violations } = await violationsAfter(fixture, c);
      const mine = violations.filter((v) => v.policyName === c.rule);
      if (c.passes) {
        assert.deepEqual(mine, [], `expected no ${c.rule} violation`);
        return;
      }
      assert.ok(mine.length > 0, `expected a ${c.rule} violation, got ${JSON.stringify(violations.map((v) => v.policyName))}`);
      const expectedUrn = c.reportedOn === null ? undefined : c.reportedOn ? resources.find((r) => r.name === c.reportedOn)?.urn : target.urn;
      assert.ok(mine.some((v) => v.urn === expectedUrn), `expected a violation on ${expectedUrn}, got ${JSON.stringify(mine)}`);
      if (c.message) assert.ok(mine.some((v) => c.message!.test(v.message)), `expected a message matching ${c.message}, got ${JSON.stringify(mine.map((v) => v.message))}`);
    });
  }
}
