import type { StackValidationPolicy } from '@pulumi/policy';
import { WAIVER_RULE, checkResources } from '../check.js';
import { createContext } from '../context.js';
import { describeResource } from '../resource.js';
import { ALL_RULES } from '../rules/index.js';
import { fromPulumi, type PulumiResource } from './resources.js';

export interface PackOptions {
  /** Environment for resources without a `plinth.dev/environment` label (the cloud ones). */
  readonly environment?: string;
  readonly production?: boolean;
}

/**
 * One stack policy per rule, so `pulumi preview` reports each by its id. Each runs the shared
 * rules over every resource of the stack, which the cross-resource rules need.
 */
export function stackPolicies(options: PackOptions): StackValidationPolicy[] {
  return [...ALL_RULES, WAIVER_RULE].map((rule) => ({
    name: rule.id,
    description: rule.rationale,
    enforcementLevel: rule.severity === 'error' ? 'mandatory' : 'advisory',
    validateStack: (args, reportViolation) => {
      const resources = (args.resources as unknown as PulumiResource[]).map(fromPulumi);
      const results = checkResources(createContext(resources, options), rule === WAIVER_RULE ? [] : [rule]);
      for (const r of results) {
        if (r.rule.id !== rule.id || r.waived) continue;
        reportViolation(
          `${describeResource(r.resource)}: ${r.finding.field}: ${r.finding.message}. Fix: ${rule.remediation}`,
          r.resource.urn,
        );
      }
    },
  }));
}
