import { POLICY_WAIVER_ANNOTATION as WAIVE_ANNOTATION } from '../model/labels.js';
import type { CheckContext, Finding, Rule, Severity } from './rule.js';
import type { PolicyResource } from './resource.js';
import { ALL_RULES } from './rules/index.js';

/** A waiver must say why; one that does not is a violation of this rule. */
export const WAIVER_RULE: Rule = {
  id: 'waiver-has-reason',
  severity: 'error',
  rationale: 'A waiver is a decision someone must be able to review; without a reason it is a silent exception.',
  remediation: `Write the waiver as ${WAIVE_ANNOTATION}: <rule-id>=<why this object may break the rule>.`,
  kinds: [],
  check: () => [],
};

export interface Result {
  readonly rule: Pick<Rule, 'id' | 'severity' | 'rationale' | 'remediation'>;
  readonly resource: PolicyResource;
  readonly finding: Finding;
  /** Set when the object waives this rule: reported, never dropped. */
  readonly waived?: string;
}

function parseWaivers(r: PolicyResource): { waivers: Map<string, string>; problems: Finding[] } {
  const waivers = new Map<string, string>();
  const problems: Finding[] = [];
  const text = r.annotations[WAIVE_ANNOTATION];
  if (!text) return { waivers, problems };
  for (const entry of text
    .split(/[;\n]/)
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [id = '', ...rest] = entry.split('=');
    const reason = rest.join('=').trim();
    if (!reason)
      problems.push({
        field: `metadata.annotations["${WAIVE_ANNOTATION}"]`,
        message: `waives ${id.trim()} without a reason`,
      });
    else waivers.set(id.trim(), reason);
  }
  return { waivers, problems };
}

/** Runs every rule over every resource it applies to. */
export function checkResources(context: CheckContext, rules: readonly Rule[] = ALL_RULES): Result[] {
  const results: Result[] = [];
  for (const resource of context.all) {
    const { waivers, problems } = parseWaivers(resource);
    for (const finding of problems) results.push({ rule: WAIVER_RULE, resource, finding });
    for (const rule of rules) {
      if (!rule.kinds.includes(resource.kind)) continue;
      for (const finding of rule.check(resource, context)) {
        results.push({ rule, resource, finding, waived: waivers.get(rule.id) });
      }
    }
  }
  return results;
}

/** Violations that count: not waived, of the given severity. */
export function violations(results: readonly Result[], severity: Severity = 'error'): Result[] {
  return results.filter((r) => !r.waived && r.rule.severity === severity);
}
