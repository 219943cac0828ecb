import { AuthorizationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { ApiException } from '@kubernetes/client-node';
import {
  RUN_API_VERSION,
  RUN_GROUP,
  RUN_KIND,
  RUN_PLURAL,
  RUN_VERSION,
  type RunSpec,
} from '../../controller/api/run.js';
import { kubeConfigAs, kubeConfigWithToken } from './cluster.js';

/** A token for a ServiceAccount, issued through the real TokenRequest API. */
export async function serviceAccountToken(namespace: string, name: string): Promise<string> {
  const core = kubeConfigAs('admin').makeApiClient(CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 3600 } },
  });
  return request.status?.token ?? '';
}

export async function serviceAccountConfig(namespace: string, name: string): Promise<KubeConfig> {
  return kubeConfigWithToken(await serviceAccountToken(namespace, name), `${namespace}:${name}`);
}

/** Whether the identity behind `kc` may do `verb` on `resource`, as the API server's authorizer says. */
export async function can(
  kc: KubeConfig,
  verb: string,
  resource: string,
  options: { group?: string; namespace?: string; subresource?: string; name?: string } = {},
): Promise<boolean> {
  const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
    body: { spec: { resourceAttributes: { verb, resource, group: options.group ?? '', ...options } } },
  });
  return review.status?.allowed === true;
}

export function runObject(name: string, spec: Partial<RunSpec> = {}) {
  return {
    apiVersion: RUN_API_VERSION,
    kind: RUN_KIND,
    metadata: { name },
    spec: { kind: 'job', pool: 'cpu', container: { image: 'ghcr.io/plinth-dev/train:1.0.0' }, ...spec },
  };
}

/** Creates a Run as the identity behind `kc`; resolves to the HTTP status. */
export async function createRun(kc: KubeConfig, namespace: string, body: object): Promise<number> {
  try {
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      namespace,
      plural: RUN_PLURAL,
      body,
    });
    return 201;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

/** The API server's message for a failed call. */
export function apiMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body = typeof error.body === 'string' ? (JSON.parse(error.body) as { message?: string }) : error.body;
    return (body as { message?: string }).message ?? '';
  }
  return String(error);
}

/** Deletes runs and waits until they, and their pods, are gone. */
export async function deleteRuns(kc: KubeConfig, namespace: string, names: string[]): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of names) {
    await api
      .deleteNamespacedCustomObject({ group: RUN_GROUP, version: RUN_VERSION, plural: RUN_PLURAL, namespace, name })
      .catch((e: unknown) => {
        if (!(e instanceof ApiException && e.code === 404)) throw e;
      });
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const runs = (await api.listNamespacedCustomObject({
      group: RUN_GROUP,
      version: RUN_VERSION,
      plural: RUN_PLURAL,
      namespace,
    })) as {
      items: { metadata: { name: string } }[];
    };
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'plinth.dev/run' });
    const left = runs.items.filter((r) => names.includes(r.metadata.name)).length;
    const podsLeft = pods.items.filter((p) => names.includes(p.metadata?.labels?.['plinth.dev/run'] ?? '')).length;
    if (left === 0 && podsLeft === 0) return;
    if (Date.now() > deadline)
      throw new Error(`runs ${names.join(', ')} still present after 60s (${left} runs, ${podsLeft} pods)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
