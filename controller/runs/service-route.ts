import type { V1Ingress, V1ObjectMeta } from '@kubernetes/client-node';
import type { PlatformDefaults, TeamDefaults } from '../api/platform-defaults.js';
import type { Run } from '../api/run.js';
import type { RunSummary } from './cached-run.js';

/** Where an external service run is served: a path of its own under its team's runs host. */
export interface ServiceRoute {
  readonly host: string;
  /** The path prefix, without a trailing slash, as the Ingress matches it. */
  readonly path: string;
  readonly url: string;
}

export function serviceRoute(run: RunSummary, team: TeamDefaults): ServiceRoute | undefined {
  if (run.spec.kind !== 'service' || !run.spec.service?.isExternal) return undefined;
  const path = `/${run.metadata.name}`;
  return { host: team.servicesHost, path, url: `https://${team.servicesHost}${path}/` };
}

/** The Ingress that serves a run's first port at its route, over the team's certificate. */
export function desiredIngress(
  run: Run,
  route: ServiceRoute,
  defaults: PlatformDefaults,
  metadata: V1ObjectMeta,
): V1Ingress {
  // The CRD requires a service to have a port.
  const port = run.spec.service?.ports[0]?.port ?? 0;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata,
    spec: {
      ingressClassName: defaults.externalServices.ingressClassName,
      tls: [{ hosts: [route.host], secretName: defaults.externalServices.tlsSecretName }],
      rules: [
        {
          host: route.host,
          http: {
            paths: [
              {
                path: route.path,
                pathType: 'Prefix',
                backend: { service: { name: String(metadata.name), port: { number: port } } },
              },
            ],
          },
        },
      ],
    },
  };
}
