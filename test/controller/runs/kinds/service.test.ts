import { describe, expect, it } from 'vitest';
import type { KubernetesObject, V1Deployment, V1Ingress, V1Pod, V1Service } from '@kubernetes/client-node';
import type { LeafRun } from '../../../../controller/api/composition.js';
import type { ServiceSection } from '../../../../controller/api/run.js';
import { serviceKind } from '../../../../controller/runs/kinds/service.js';
import { runDefaultsOf } from '../../../support/platform.js';

const defaults = runDefaultsOf('local');
const vision = defaults.teams['plinth-vision']!;
const context = { defaults, team: vision, pool: 'cpu' };

/** A service run of team vision, with `extra` in its service section and `shared` beside it. */
const service = (extra: Partial<ServiceSection>, shared: Partial<LeafRun['spec']> = {}): LeafRun => ({
  apiVersion: 'plinth.dev/v1alpha1',
  kind: 'Run',
  metadata: { name: 'r', namespace: 'plinth-vision', uid: 'u1' },
  spec: {
    kind: 'service',
    pool: 'cpu',
    service: { container: { image: 'x:1' }, ports: [{ name: 'http', port: 8888 }, { port: 9090 }], ...extra },
    ...shared,
  },
});

/** The children a service run wants, by kind. */
function desired(run: LeafRun) {
  const byKind = new Map(serviceKind.desired(run, context).map((o) => [o.kind, o]));
  return {
    kinds: [...byKind.keys()],
    deployment: byKind.get('Deployment') as V1Deployment,
    service: byKind.get('Service') as V1Service,
    ingress: byKind.get('Ingress') as V1Ingress | undefined,
  };
}

describe('the service kind', () => {
  it('wants its Deployment first, as the primary child whose status the run reads', () => {
    expect(desired(service({})).kinds).toEqual(['Deployment', 'Service']);
    expect(desired(service({ isExternal: true })).kinds).toEqual(['Deployment', 'Service', 'Ingress']);
    expect(serviceKind.children.map((r) => r.kind)).toEqual(['Deployment', 'Service', 'Ingress']);
  });

  it("counts every replica's GPUs against the team quota", () => {
    const gpu = { container: { image: 'x:1', resources: { limits: { 'nvidia.com/gpu': '2' } } } };
    expect(serviceKind.gpus(service({ ...gpu, replicas: 3 }))).toBe(6);
    expect(serviceKind.gpus(service(gpu))).toBe(2);
    expect(serviceKind.gpus(service({}))).toBe(0);
  });

  const observe = (deployment: V1Deployment | undefined, pods: V1Pod[] = [], run = service({})) =>
    serviceKind.observe(
      run,
      { children: new Map<string, KubernetesObject>(deployment ? [['Deployment', deployment]] : []), pods, nodes: [] },
      context,
    );

  it('is running once every replica is ready, and says where an external one is served', () => {
    const ready = { spec: { replicas: 2, selector: {}, template: {} }, status: { readyReplicas: 2 } };
    expect(observe(ready).diagnosis).toMatchObject({
      phase: 'running',
      reason: 'Running',
      message: '2/2 replicas ready',
    });
    expect(observe(ready, [], service({ isExternal: true })).url).toBe('https://vision.runs.plinth.localtest.me/r/');
    expect(observe(ready).url).toBeUndefined();
  });

  it("names the namespace quota when the Deployment's pods are refused", () => {
    const refused = {
      spec: { replicas: 1, selector: {}, template: {} },
      status: {
        conditions: [
          {
            type: 'ReplicaFailure',
            status: 'True',
            message: 'pods "r-1" is forbidden: exceeded quota: team-quota, requested: requests.nvidia.com/gpu=1',
          },
        ],
      },
    };
    expect(observe(refused).diagnosis).toMatchObject({ phase: 'warning', reason: 'QuotaExceeded' });
  });

  it('waits for its Deployment, then for its pods', () => {
    expect(observe(undefined).diagnosis).toMatchObject({ phase: 'created', reason: 'Admitted' });
    const empty = { spec: { replicas: 1, selector: {}, template: {} }, status: {} };
    expect(observe(empty).diagnosis).toMatchObject({ phase: 'created', reason: 'WorkloadCreated' });
  });
});

describe('the service kind wants', () => {
  it('keeps a service in the cluster unless it asks to be external, whatever it labels itself', () => {
    const {
      deployment,
      service: svc,
      ingress,
    } = desired(service({}, { environment: { labels: { 'plinth.dev/serves': 'true' } } }));
    expect(ingress).toBeUndefined();
    expect(svc.spec?.ports?.map((p) => p.port)).toEqual([8888, 9090]);
    const template = deployment.spec?.template;
    expect(template?.metadata?.labels?.['plinth.dev/serves']).toBeUndefined();
    expect(template?.spec?.containers[0]?.env?.map((e) => e.name)).not.toContain('PLINTH_SERVICE_URL');
  });

  it("serves an external service's first port under its team's host, over the team's certificate", () => {
    const { deployment, ingress } = desired(service({ isExternal: true }));
    const host = 'vision.runs.plinth.localtest.me';
    expect(vision.servicesHost).toBe(host);
    expect(ingress?.metadata).toMatchObject({ name: 'r', namespace: 'plinth-vision' });
    expect(ingress?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Run', name: 'r', controller: true });
    expect(ingress?.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: [host], secretName: 'runs-tls' }],
      rules: [
        {
          host,
          http: {
            paths: [{ path: '/r', pathType: 'Prefix', backend: { service: { name: 'r', port: { number: 8888 } } } }],
          },
        },
      ],
    });
    const template = deployment.spec?.template;
    expect(template?.metadata?.labels?.['plinth.dev/serves']).toBe('true');
    expect(template?.spec?.containers[0]?.env).toEqual(
      expect.arrayContaining([
        { name: 'PLINTH_SERVICE_URL', value: `https://${host}/r/` },
        { name: 'PLINTH_SERVICE_PATH', value: '/r' },
      ]),
    );
  });
});
