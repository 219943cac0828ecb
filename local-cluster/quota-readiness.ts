import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

/**
 * Waits until kube-controller-manager counts every resource of every ResourceQuota in
 * `namespaces`. Until it has, quota admission refuses any object of an uncounted resource ("status
 * unknown for quota"): a quota on Runs, made with the Run CRD, stays uncounted until the quota
 * controller's next discovery pass (every 30 s) finds the new resource.
 */
export async function waitForQuotasCounted(kc: KubeConfig, namespaces: readonly string[], timeoutMs = 120_000) {
  const core = kc.makeApiClient(CoreV1Api);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const uncounted: string[] = [];
    for (const namespace of namespaces) {
      for (const quota of (await core.listNamespacedResourceQuota({ namespace })).items) {
        const used = quota.status?.used ?? {};
        const missing = Object.keys(quota.spec?.hard ?? {}).filter((key) => !(key in used));
        if (missing.length > 0) uncounted.push(`${namespace}/${quota.metadata?.name} (${missing.join(', ')})`);
      }
    }
    if (uncounted.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`the quota controller has not counted, after ${timeoutMs / 1000} s: ${uncounted.join('; ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
