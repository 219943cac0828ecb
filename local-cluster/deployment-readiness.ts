import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';

/** What keeps a Deployment from being Available, in its own words, or undefined once it is. */
export function deploymentProblem(deployment: V1Deployment | undefined): string | undefined {
  if (!deployment) return 'it does not exist yet';
  const available = deployment.status?.conditions?.find((c) => c.type === 'Available');
  const wanted = deployment.spec?.replicas ?? 1;
  const ready = deployment.status?.availableReplicas ?? 0;
  if (available?.status === 'True' && ready >= wanted) return undefined;
  const progressing = deployment.status?.conditions?.find((c) => c.type === 'Progressing');
  return `${ready}/${wanted} replicas available${progressing?.message ? `: ${progressing.message}` : ''}`;
}

/**
 * Waits until the Deployment is Available with all its replicas, as `kubectl rollout status` does,
 * and says what it was waiting on when it gives up.
 */
export async function waitForDeploymentAvailable(
  kc: KubeConfig,
  namespace: string,
  name: string,
  timeoutMs: number,
): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const deadline = Date.now() + timeoutMs;
  let problem: string | undefined = 'not read yet';
  while (Date.now() < deadline) {
    const deployment = await apps.readNamespacedDeployment({ name, namespace }).catch(() => undefined);
    problem = deploymentProblem(deployment);
    if (!problem) return;
    await sleep(500);
  }
  throw new Error(`Deployment ${namespace}/${name} was not Available within ${timeoutMs / 1000}s: ${problem}`);
}
