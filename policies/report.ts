import { describeResource } from './resource.js';
import type { Result } from './check.js';
import type { Rule } from './rule.js';

/** A table grouped by object, for people. */
export function formatTable(results: readonly Result[], checked: number): string {
  const byObject = new Map<string, Result[]>();
  for (const r of results) {
    const key = describeResource(r.resource);
    byObject.set(key, [...(byObject.get(key) ?? []), r]);
  }
  const lines: string[] = [];
  for (const [object, rs] of byObject) {
    const where = rs[0]?.resource.source ? `  (${rs[0].resource.source.file}:${rs[0].resource.source.line})` : '';
    lines.push(`${object}${where}`);
    for (const r of rs) {
      const status = r.waived ? 'WAIVED ' : r.rule.severity === 'error' ? 'ERROR  ' : 'WARN   ';
      lines.push(`  ${status} ${r.rule.id.padEnd(36)} ${r.finding.field}: ${r.finding.message}`);
      lines.push(r.waived ? `          waived: ${r.waived}` : `          fix: ${r.rule.remediation}`);
    }
  }
  const errors = results.filter((r) => !r.waived && r.rule.severity === 'error').length;
  const waived = results.filter((r) => r.waived).length;
  const warnings = results.filter((r) => !r.waived && r.rule.severity === 'warning').length;
  lines.push(`${checked} objects checked: ${errors} violations, ${warnings} warnings, ${waived} waived`);
  return lines.join('\n');
}

export function formatJson(results: readonly Result[], checked: number): string {
  return JSON.stringify(
    {
      checked,
      results: results.map((r) => ({
        rule: r.rule.id,
        severity: r.rule.severity,
        kind: r.resource.kind,
        namespace: r.resource.namespace,
        name: r.resource.name,
        field: r.finding.field,
        message: r.finding.message,
        waived: r.waived ?? null,
        file: r.resource.source?.file,
        line: r.resource.source?.line,
      })),
    },
    null,
    2,
  );
}

/** SARIF 2.1.0, which code-scanning UIs turn into annotations on the file and line. */
export function formatSarif(
  results: readonly Result[],
  rules: readonly Pick<Rule, 'id' | 'severity' | 'rationale' | 'remediation'>[],
): string {
  return JSON.stringify(
    {
      $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
      version: '2.1.0',
      runs: [
        {
          tool: {
            driver: {
              name: 'plinth-policies',
              informationUri: 'https://plinth.dev/policies',
              rules: rules.map((rule) => ({
                id: rule.id,
                shortDescription: { text: rule.rationale },
                help: { text: rule.remediation },
                defaultConfiguration: { level: rule.severity === 'error' ? 'error' : 'warning' },
              })),
            },
          },
          results: results.map((r) => ({
            ruleId: r.rule.id,
            level: r.rule.severity === 'error' ? 'error' : 'warning',
            message: { text: `${describeResource(r.resource)}: ${r.finding.field}: ${r.finding.message}` },
            ...(r.waived ? { suppressions: [{ kind: 'inSource', justification: r.waived }] } : {}),
            locations: r.resource.source
              ? [
                  {
                    physicalLocation: {
                      artifactLocation: { uri: r.resource.source.file },
                      region: { startLine: Math.max(1, r.resource.source.line) },
                    },
                  },
                ]
              : [],
          })),
        },
      ],
    },
    null,
    2,
  );
}
