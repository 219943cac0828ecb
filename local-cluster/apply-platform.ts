import type { KubeConfig } from '@kubernetes/client-node';
import { crdsIn } from '../stacks/deploy/crd-files.js';
import { PLINTH_LABELS } from '../model/labels.js';
import { applyOrThrow, installCrds } from './server-side-apply.js';
import { waitForQuotasCounted } from './quota-readiness.js';

type PlatformObject = { kind: string; metadata?: { name?: string; labels?: Record<string, string> } };

/**
 * Applies a synthesized platform to a local control plane as a cluster suite or a bench needs it:
 * the operators' CRDs, then the namespaces and the Run CRD, then everything, and returns once the
 * team quotas count every resource, so that the first Run is not refused for a quota not yet counted.
 */
export async function applyPlatform(kc: KubeConfig, objects: readonly PlatformObject[]): Promise<void> {
  await installCrds(kc, crdsIn());
  await applyOrThrow(
    kc,
    objects.filter((o) => o.kind === 'Namespace' || o.kind === 'CustomResourceDefinition') as never[],
  );
  await applyOrThrow(kc, objects as never[]);
  const teamNamespaces = objects
    .filter((o) => o.kind === 'Namespace' && o.metadata?.labels?.[PLINTH_LABELS.team])
    .map((o) => String(o.metadata?.name));
  await waitForQuotasCounted(kc, teamNamespaces);
}
