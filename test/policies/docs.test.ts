import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RULES_MD, renderRulesMd } from '../../policies/docs';
import { policies } from '../../policies/policies';

test('policies/RULES.md is current (regenerate with `npx tsx policies/docs.ts --write`)', () => {
  assert.equal(readFileSync(RULES_MD, 'utf8'), renderRulesMd());
});

test('every rule has a unique id, a reason, a fix and a default enforcement level', () => {
  const names = policies.map((p) => p.name);
  assert.equal(new Set(names).size, names.length);
  for (const p of policies) {
    assert.match(p.name, /^[a-z0-9-]+$/);
    assert.ok(p.lifeboat.why.length > 20 && p.lifeboat.fix.length > 10, p.name);
    assert.ok(['advisory', 'mandatory'].includes(p.enforcementLevel ?? ''), p.name);
  }
});
