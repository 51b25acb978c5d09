import { LABEL, labelledEphemeral } from '../../lib/conventions';
import { stackPolicy, type Subject } from '../../lib/rule';

/**
 * The ephemeral switch (a resource label or the stack tag) turns the production-only rules off for the whole stack,
 * so it must not be reachable from a production stack: one resource labelled `lifeboat-ephemeral: "true"` would
 * otherwise switch off retention lock, Object Lock, deletion protection and the DR checks everywhere in it.
 * The infra's config loader refuses `lifeboat:ephemeral: true` in the same environments (infra/config/common.ts,
 * PRODUCTION_ENVIRONMENTS); this rule also covers labels and tags set by hand or by other programs.
 */
export default stackPolicy({
  name: 'stack-ephemeral-not-production',
  platform: 'stack',
  description:
    'A stack treated as ephemeral (a lifeboat-ephemeral label or the lifeboat:ephemeral stack tag) holds no resource labelled with a production environment (lifeboat-environment prod, production, or either followed by "-").',
  why: 'Ephemeral turns off the production-only rules (retention lock, Object Lock, deletion protection, DR copy) for the whole stack; a production stack marked ephemeral, by one label or tag, would ship with all of them off.',
  fix: 'Remove lifeboat-ephemeral / the lifeboat:ephemeral stack tag from the production stack, or give the throwaway stack its own environment name (lifeboat:environment).',
  enforcementLevel: 'mandatory',
  config: {
    productionEnvironments: {
      type: 'array',
      items: { type: 'string' },
      default: ['prod', 'production'],
      description: 'lifeboat-environment values that are production; a value followed by "-" and a qualifier (prod-eu) is too.',
    },
  },
  check: (stack, cfg, report) => {
    const production = (cfg.productionEnvironments as string[]).map((e) => e.toLowerCase());
    const isProduction = (env: string | undefined) => {
      const e = env?.toLowerCase();
      return e !== undefined && production.some((p) => e === p || e.startsWith(`${p}-`));
    };
    const prod = stack.resources.filter((r) => isProduction(r.labels[LABEL.environment]));
    if (prod.length === 0) return;
    const labelled = prod.filter((r) => labelledEphemeral(r.labels));
    for (const r of labelled) {
      report(`labelled ${LABEL.ephemeral}: "true" and ${LABEL.environment}: ${r.labels[LABEL.environment]}; production resources are never ephemeral`, r);
    }
    if (labelled.length > 0 || !stack.ephemeral) return;
    // The switch came from elsewhere: a resource without an environment label, or the stack tag. One finding,
    // on the first production resource, naming where the switch is.
    const marker: Subject | undefined = stack.resources.find((r) => labelledEphemeral(r.labels));
    const source = marker ? `resource ${marker.name} is labelled ${LABEL.ephemeral}: "true"` : 'the stack tag lifeboat:ephemeral is "true"';
    const first = prod[0]!;
    report(`the stack is treated as ephemeral (${source}) but holds ${LABEL.environment}: ${first.labels[LABEL.environment]}; production stacks are never ephemeral`, first);
  },
});
