import { readFileSync } from 'node:fs';
import { checkResources } from '../check.js';
import { createContext } from '../context.js';
import { parseManifests } from '../input.js';
import { describeResource } from '../resource.js';

/** The part of cdk8s's ValidationContext the plugin uses. */
export interface Cdk8sValidationContext {
  readonly manifests: readonly string[];
  readonly report: {
    addViolation(violation: {
      ruleName: string;
      recommendation: string;
      fix: string;
      violatingResources: { resourceName: string; locations: string[]; manifestPath: string }[];
    }): void;
    submit(status: 'success' | 'failure', metadata?: Record<string, string>): void;
  };
  readonly logger: { log(message: string): void };
}

/** Checks every synthesized manifest; errors fail `cdk8s synth`, as they fail `plinth check`; waivers and warnings are logged. */
export async function validateSynthesizedManifests(
  context: Cdk8sValidationContext,
  properties: { environment?: string },
) {
  const resources = context.manifests.flatMap((path) => parseManifests(readFileSync(path, 'utf8'), path));
  const results = checkResources(createContext(resources, { environment: properties.environment }));
  const byRule = new Map<string, typeof results>();
  for (const r of results) {
    if (r.waived) {
      context.logger.log(`waived ${r.rule.id} on ${describeResource(r.resource)}: ${r.waived}`);
      continue;
    }
    if (r.rule.severity !== 'error') {
      context.logger.log(`warning ${r.rule.id} on ${describeResource(r.resource)}: ${r.finding.message}`);
      continue;
    }
    byRule.set(r.rule.id, [...(byRule.get(r.rule.id) ?? []), r]);
  }
  for (const [ruleName, rs] of byRule) {
    const rule = rs[0]?.rule;
    context.report.addViolation({
      ruleName,
      recommendation: rule?.rationale ?? '',
      fix: rule?.remediation ?? '',
      violatingResources: rs.map((r) => ({
        resourceName: describeResource(r.resource),
        locations: [`${r.finding.field}: ${r.finding.message}`],
        manifestPath: r.resource.source?.file ?? '',
      })),
    });
  }
  context.report.submit(byRule.size > 0 ? 'failure' : 'success', { objects: String(resources.length) });
}
