import { AuthorizationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { kubeConfigAs, kubeConfigWithToken } from './cluster-clients.js';

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
