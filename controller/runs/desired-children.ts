import type { V1Deployment, V1Ingress, V1Job, V1OwnerReference, V1Service } from '@kubernetes/client-node';
import { GPU_RESOURCE } from '../../model/pools.js';
import type { PlatformDefaults, TeamDefaults } from '../api/platform-defaults.js';
import { RUN_API_VERSION, RUN_KIND, type Run } from '../api/run.js';
import { runPodTemplate } from './pod-template.js';
import { runLabels, runSelector } from './run-labels.js';
import { desiredIngress, serviceRoute } from './service-route.js';

/** Children are named after their run, so a retried or restarted reconcile finds, never duplicates, them. */
export function childName(run: Run): string {
  return run.metadata.name;
}

export function ownerReference(run: Run): V1OwnerReference {
  return {
    apiVersion: RUN_API_VERSION,
    kind: RUN_KIND,
    name: run.metadata.name,
    uid: String(run.metadata.uid),
    controller: true,
    blockOwnerDeletion: true,
  };
}

function metadata(run: Run, team: string) {
  return {
    name: childName(run),
    namespace: run.metadata.namespace,
    labels: runLabels(run.metadata.name, team),
    ownerReferences: [ownerReference(run)],
  };
}

/** A job run: one batch/v1 Job whose termination settings come from the run. */
export function desiredJob(run: Run, defaults: PlatformDefaults, team: string): V1Job {
  const termination = run.spec.termination ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(run, team),
    spec: {
      backoffLimit: termination.maxRetries ?? 0,
      activeDeadlineSeconds: termination.timeout,
      ttlSecondsAfterFinished: termination.ttl,
      template: runPodTemplate(run, defaults, team, 'Never'),
    },
  };
}

/** A service run's children: a Deployment, the Service in front of it, and its Ingress if external. */
export interface ServiceChildren {
  readonly deployment: V1Deployment;
  readonly service: V1Service;
  readonly ingress?: V1Ingress;
}

export function desiredService(run: Run, defaults: PlatformDefaults, team: TeamDefaults): ServiceChildren {
  const ports = run.spec.ports ?? [];
  const route = serviceRoute(run, team);
  const template = runPodTemplate(run, defaults, team.team, 'Always', route);
  const main = template.spec?.containers[0];
  if (main) {
    main.ports = ports.map((p, i) => ({
      name: p.name ?? `port-${i}`,
      containerPort: p.port,
      protocol: p.protocol ?? 'TCP',
    }));
  }
  return {
    deployment: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: metadata(run, team.team),
      spec: { replicas: run.spec.replicas ?? 1, selector: { matchLabels: runSelector(run.metadata.name) }, template },
    },
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata(run, team.team),
      spec: {
        selector: runSelector(run.metadata.name),
        ports: ports.map((p, i) => ({
          name: p.name ?? `port-${i}`,
          port: p.port,
          targetPort: p.port as never,
          protocol: p.protocol ?? 'TCP',
        })),
      },
    },
    ingress: route && desiredIngress(run, route, defaults, metadata(run, team.team)),
  };
}

/** GPUs a run holds while admitted: the largest of its containers' GPU limit or request, times replicas. */
export function gpusOf(run: Run): number {
  const containers = [run.spec.container, ...(run.spec.init ?? [])];
  const perPod = Math.max(
    0,
    ...containers.map((c) => {
      const r = c.resources ?? {};
      return Number(r.limits?.[GPU_RESOURCE] ?? r.requests?.[GPU_RESOURCE] ?? 0);
    }),
  );
  return perPod * (run.spec.kind === 'service' ? (run.spec.replicas ?? 1) : 1);
}
