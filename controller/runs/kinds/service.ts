import type { V1Deployment, V1Ingress, V1Service } from '@kubernetes/client-node';
import { DEPLOYMENTS, INGRESSES, SERVICES } from '../../api/children.js';
import { REASON } from '../../api/reasons.js';
import { sectionOf, type ServiceSection } from '../../api/run.js';
import { worstDiagnosis, type Diagnosis } from '../diagnosis.js';
import { childMetadata, gpusPerPod, runPodTemplate } from '../pod-template.js';
import { runSelector } from '../run-labels.js';
import { desiredIngress, serviceRoute } from '../service-route.js';
import type { RunKind, WorkloadObservation } from './run-kind.js';

/**
 * A service run: a long-running server, as a Deployment, the Service in front of it and, when
 * external, an Ingress on the team's runs host. It follows its spec: an edit rolls the Deployment.
 */
export const serviceKind: RunKind<'service'> = {
  name: 'service',
  children: [DEPLOYMENTS, SERVICES, INGRESSES],
  updates: 'on-change',

  desired(run, { defaults, team, pool, outputsSource, tracking }) {
    const section = sectionOf(run.spec, 'service');
    const { ports } = section;
    const route = serviceRoute(run, team);
    const template = runPodTemplate(run, section, {
      defaults,
      team,
      pool,
      restartPolicy: 'Always',
      route,
      outputsSource,
      tracking,
    });
    const main = template.spec?.containers[0];
    if (main) {
      main.ports = ports.map((p, i) => ({
        name: p.name ?? `port-${i}`,
        containerPort: p.port,
        protocol: p.protocol ?? 'TCP',
      }));
    }
    const metadata = () => childMetadata(run, team.team);
    const deployment: V1Deployment = {
      apiVersion: DEPLOYMENTS.apiVersion,
      kind: DEPLOYMENTS.kind,
      metadata: metadata(),
      spec: { replicas: replicasOf(section), selector: { matchLabels: runSelector(run.metadata.name) }, template },
    };
    const service: V1Service = {
      apiVersion: SERVICES.apiVersion,
      kind: SERVICES.kind,
      metadata: metadata(),
      spec: {
        selector: runSelector(run.metadata.name),
        ports: ports.map((p, i) => ({
          name: p.name ?? `port-${i}`,
          port: p.port,
          targetPort: p.port,
          protocol: p.protocol ?? 'TCP',
        })),
      },
    };
    const ingress: V1Ingress | undefined = route && desiredIngress(run, route, defaults, metadata());
    return ingress ? [deployment, service, ingress] : [deployment, service];
  },

  observe(run, observed, { team }) {
    const deployment = observed.children.get(DEPLOYMENTS.kind) as V1Deployment | undefined;
    const diagnosis: Diagnosis = deployment
      ? deploymentDiagnosis(deployment, observed)
      : { phase: 'created', reason: REASON.Admitted, message: 'admitted; creating its Deployment' };
    return { diagnosis, attempts: observed.pods.length, url: serviceRoute(run, team)?.url };
  },

  gpus: (run) => {
    const section = sectionOf(run.spec, 'service');
    return gpusPerPod(section) * replicasOf(section);
  },
};

const replicasOf = (section: Pick<ServiceSection, 'replicas'>): number => section.replicas ?? 1;

function deploymentDiagnosis(deployment: V1Deployment, observed: WorkloadObservation): Diagnosis {
  const want = deployment.spec?.replicas ?? 1;
  const ready = deployment.status?.readyReplicas ?? 0;
  const failure = deployment.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (failure) {
    const quota = (failure.message ?? '').includes('exceeded quota');
    return {
      phase: 'warning',
      reason: quota ? REASON.QuotaExceeded : REASON.FailedCreate,
      message: `cannot create pods: ${failure.message}`,
    };
  }
  if (want > 0 && ready >= want)
    return { phase: 'running', reason: REASON.Running, message: `${ready}/${want} replicas ready` };
  return (
    worstDiagnosis(observed.pods, observed.nodes, observed.podEventsOf) ?? {
      phase: 'created',
      reason: REASON.WorkloadCreated,
      message: 'the Deployment exists; waiting for its pods',
    }
  );
}
