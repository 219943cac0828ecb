/**
 * The README's sections that restate facts defined in code, generated from that code so that the
 * docs cannot drift from it. Each lives between `<!-- generated:<name> -->` and
 * `<!-- /generated:<name> -->`. `npm run docs` rewrites them; a unit test fails while the README
 * differs from what this would write.
 */
import { RUN_LOGS_PARAMETERS } from '../controller/api/logs.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { REASON_SOURCES, RUN_REASONS, type ReasonSource } from '../controller/api/reasons.js';
import { describeOnRuns } from '../controller/api/security-floor.js';
import { RESERVED_POD_KEYS } from '../model/labels.js';
import { OPEN_SUBJECTS, OTHER_NAMESPACE_ACCOUNTS } from '../constructs/team-admin-guard.js';
import { SECURITY_FLOOR, type FloorField, type FloorLevel } from '../model/security-floor.js';
import { FLOOR_RULE_IDS } from '../policies/rules/pod-security.js';
import { DEBIAN_SUITE } from '../images/builder/debian-base.js';
import type { ImageStep } from '../images/definition.js';
import { IMAGES } from '../images/definitions/index.js';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** A Markdown table; prettier would align it the same way, so the README stays formatted. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

/** Every reason a run's status or condition can give, by where it comes from. */
export function reasonsTable(): string {
  const rows = Object.entries(RUN_REASONS).map(([reason, { source, doc }]) => [
    `\`${reason}\``,
    REASON_SOURCES[source as ReasonSource],
    doc,
  ]);
  return table(['reason', 'from', 'meaning'], rows);
}

/** What the platform sets for a floor field, at each level it sets it: `pod: security.runAsUser`. */
function platformValues(field: FloorField): string {
  const shown = (value: NonNullable<FloorField['floor'][FloorLevel]>) =>
    typeof value === 'object' && 'configured' in value
      ? `\`security.${value.configured}\``
      : `\`${Array.isArray(value) ? `[${value.join(', ')}]` : String(value)}\``;
  const set = (['pod', 'container'] as const).flatMap((level) => {
    const value = field.floor[level];
    return value === undefined ? [] : [`${level}: ${shown(value)}`];
  });
  return set.length > 0 ? set.join(', ') : "nothing: Kubernetes' default meets it";
}

/** Every field of the security floor: what the platform sets, what a run may give, which policy checks it, and why. */
export function securityFloorTable(): string {
  const rows = SECURITY_FLOOR.map((field) => [
    `\`${field.path}\``,
    platformValues(field),
    field.levels.includes('container') ? describeOnRuns(field) : 'nothing: a pod field',
    field.concern ? `\`${FLOOR_RULE_IDS[field.concern]}\`` : "none: the floor is the workload's own",
    field.reason,
  ]);
  return table(['field', 'the platform sets', "a run's container may give", 'policy', 'why'], rows);
}

const SECTIONS: Readonly<Record<string, () => string>> = {
  reasons: reasonsTable,
  'run-logs-parameters': runLogsParametersTable,
  'security-floor': securityFloorTable,
  'reserved-keys': reservedKeysTable,
  'refused-subjects': refusedSubjectsTable,
  images: imagesTable,
};

function stepDoes(step: ImageStep): string {
  switch (step.kind) {
    case 'pip':
      return `from PyPI: ${step.requirements.map((r) => `\`${r}\``).join(', ')}`;
    case 'static-c':
      return `\`${step.source}\`, compiled with \`gcc -static\``;
    case 'node':
      return 'Node.js of the `node` package';
    case 'controller-bundle':
      return 'the controller, bundled';
    case 'toolchain-binary':
      return `\`${step.binary}\`, built from Go modules by the toolchain`;
  }
}

/** Every image `npm run images` builds: what its root is made of, whom it runs as, what it starts. */
export function imagesTable(): string {
  const rows = IMAGES.map((image) => [
    `\`${image.name}\``,
    image.base.kind === 'scratch'
      ? 'empty'
      : [`Debian ${DEBIAN_SUITE} minbase`, ...image.base.packages.map((p) => `\`${p}\``)].join(', '),
    image.steps.map(stepDoes).join('; ') || 'nothing',
    `\`${image.user.uid}:${image.user.gid}\`${image.user.account ? ` (${image.user.account})` : ''}`,
    `\`${[...image.entrypoint, ...image.cmd].join(' ')}\``,
  ]);
  return table(['image', 'root filesystem', 'adds', 'runs as', 'starts'], rows);
}

/** The query parameters of a run's log in the logs API, as the server checks them. */
export function runLogsParametersTable(): string {
  const rows = Object.entries(RUN_LOGS_PARAMETERS).map(([name, meaning]) => [`\`${name}\``, meaning]);
  return table(['parameter', 'reads'], rows);
}

/** The RoleBinding subjects no one may bind in a team namespace, and whom each would let in. */
export function refusedSubjectsTable(): string {
  const rows = [...OPEN_SUBJECTS, OTHER_NAMESPACE_ACCOUNTS].map((s) => [s.kind, `\`${s.name}\``, s.who]);
  return table(['kind', 'name', 'would open the namespace to'], rows);
}

/** The pod label and annotation keys a run may not set, and why. */
export function reservedKeysTable(): string {
  const rows = RESERVED_POD_KEYS.map((k) => [
    `\`${k.prefix}\``,
    k.annotations ? 'labels and annotations' : 'labels',
    k.why,
  ]);
  return table(['keys starting with', 'refused in', 'why'], rows);
}

/** The README with every generated section written anew. */
export function withGeneratedSections(readme: string): string {
  let text = readme;
  for (const [name, generate] of Object.entries(SECTIONS)) {
    const start = `<!-- generated:${name} -->`;
    const end = `<!-- /generated:${name} -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md has no ${start} ... ${end} section`);
    text = `${text.slice(0, from + start.length)}\n\n${generate()}\n\n${text.slice(to)}`;
  }
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const before = readFileSync(README, 'utf8');
  const after = withGeneratedSections(before);
  if (after !== before) writeFileSync(README, after);
  console.error(after === before ? 'README.md is up to date' : 'README.md: generated sections rewritten');
}
