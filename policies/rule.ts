import type { PolicyResource } from './resource.js';

export type Severity = 'error' | 'warning';

/** One problem a rule found on one resource. */
export interface Finding {
  /** The field at fault, as a path into the object: `spec.template.spec.containers[0].image`. */
  readonly field: string;
  readonly message: string;
}

/** Facts the rules need beyond the resource itself. */
export interface CheckContext {
  /** Every resource under check, for rules that look across objects (a PDB for a Deployment). */
  readonly all: readonly PolicyResource[];
  /** Environment of a resource: its `plinth.dev/environment` label, else the one given to the runner. */
  environmentOf(resource: PolicyResource): string | undefined;
  /** Node pools of an environment, when it is known. */
  poolsOf(environment: string | undefined): { names: string[]; gpu: string[]; core: string | undefined } | undefined;
  /**
   * How an environment's teams get their artifact-store credentials: from a Secret of the team
   * namespace, a workload identity, or none needed (a volume store); undefined when unknown.
   */
  teamCredentialsOf(environment: string | undefined): 'secret' | 'workload-identity' | 'none' | undefined;
  /** Environments held to production rules (pinned digests, multi-AZ). */
  isProduction(environment: string | undefined): boolean;
}

export interface Rule {
  readonly id: string;
  readonly severity: Severity;
  /** Why the rule exists, in one line. */
  readonly rationale: string;
  /** How to fix a violation. */
  readonly remediation: string;
  /** Resource kinds (Kubernetes kinds or Pulumi types) the rule looks at. */
  readonly kinds: readonly string[];
  check(resource: PolicyResource, context: CheckContext): Finding[];
}
