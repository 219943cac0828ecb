import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import type { PlatformConfig } from '../model/config/schema.js';
import type { Resources } from '../model/config/resources.js';
import { PLATFORM_IMAGE_PULL_POLICY } from '../model/images.js';
import { componentLabels, selectorLabels } from '../model/labels.js';
import { corePlacement } from '../model/pools.js';
import { containerSecurityContext, podSecurityContext } from '../model/security-floor.js';

/** Spread a component's replicas across nodes: required, so one node loss never takes all. */
export function spreadAcrossNodes(selector: Record<string, string>): k8s.Affinity {
  return {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: selector }, topologyKey: 'kubernetes.io/hostname' },
      ],
    },
  };
}

export interface CoreServiceProps {
  readonly config: PlatformConfig;
  /** Component name: names the Deployment, Service and PDB, and sets app.kubernetes.io/name. */
  readonly component: string;
  readonly image: string;
  readonly replicas: number;
  readonly resources: Resources;
  readonly ports: { readonly name: string; readonly port: number }[];
  readonly livenessProbe: k8s.Probe;
  readonly readinessProbe: k8s.Probe;
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: k8s.EnvVar[];
  readonly volumes?: k8s.Volume[];
  readonly volumeMounts?: k8s.VolumeMount[];
  /** Default: a ServiceAccount of the component's name is assumed to exist. */
  readonly serviceAccountName?: string;
  /** Default false: only services that call the API get a token. */
  readonly automountServiceAccountToken?: boolean;
}

/**
 * A platform service on the core pool: dedicated nodes only, replicas spread across nodes, probes,
 * requests and limits, the security floor, a Service, and a PodDisruptionBudget when replicated.
 * A writable /tmp is mounted so the root filesystem can stay read-only.
 */
export class CoreService extends Construct {
  readonly deployment: k8s.KubeDeployment;
  readonly service: k8s.KubeService;

  constructor(scope: Construct, id: string, props: CoreServiceProps) {
    super(scope, id);
    const { config, component } = props;
    const labels = componentLabels(config.name, component);
    const selector = selectorLabels(component);
    const placement = corePlacement(config);
    const metadata = { name: component, namespace: config.namespace, labels };

    this.deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata,
      spec: {
        replicas: props.replicas,
        selector: { matchLabels: selector },
        // Replicas are pinned to distinct nodes, so a surge pod may have nowhere to go: replace in place.
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate:
            props.replicas > 1
              ? { maxUnavailable: k8s.IntOrString.fromNumber(1), maxSurge: k8s.IntOrString.fromNumber(0) }
              : { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromNumber(1) },
        },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: props.serviceAccountName ?? component,
            automountServiceAccountToken: props.automountServiceAccountToken ?? false,
            securityContext: podSecurityContext(config.security),
            nodeSelector: placement.nodeSelector,
            tolerations: placement.tolerations,
            affinity: props.replicas > 1 ? spreadAcrossNodes(selector) : undefined,
            containers: [
              {
                name: component,
                image: props.image,
                imagePullPolicy: PLATFORM_IMAGE_PULL_POLICY,
                command: props.command,
                args: props.args,
                env: props.env,
                ports: props.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
                resources: {
                  requests: {
                    cpu: k8s.Quantity.fromString(props.resources.requests.cpu),
                    memory: k8s.Quantity.fromString(props.resources.requests.memory),
                  },
                  limits: {
                    cpu: k8s.Quantity.fromString(props.resources.limits.cpu),
                    memory: k8s.Quantity.fromString(props.resources.limits.memory),
                  },
                },
                livenessProbe: props.livenessProbe,
                readinessProbe: props.readinessProbe,
                securityContext: containerSecurityContext(),
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, ...(props.volumeMounts ?? [])],
              },
            ],
            volumes: [
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
              ...(props.volumes ?? []),
            ],
          },
        },
      },
    });

    this.service = new k8s.KubeService(this, 'service', {
      metadata,
      spec: {
        selector,
        ports: props.ports.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromString(p.name) })),
      },
    });

    if (props.replicas > 1) {
      new k8s.KubePodDisruptionBudget(this, 'pdb', {
        metadata,
        spec: { minAvailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } },
      });
    }
  }
}
