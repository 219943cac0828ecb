import { describe, expect, it } from 'vitest';
import { CONTROLLER_PORTS } from '../../controller/api/metrics.js';
import { CNPG_PORTS, DATABASE_POD_LABELS } from '../../constructs/database.js';
import {
  ACME_HTTP01_SOLVER_LABEL,
  connectionLabel,
  PLINTH_LABELS,
  POLICY_WAIVER_ANNOTATION,
} from '../../model/labels.js';
import { OBJECT_STORE_COMPONENT, OBJECT_STORE_PORTS, STORE_USERS_COMPONENT, TRACKING_PORT } from '../../model/names.js';
import { NetworkPolicies, selects, type PodEndpoint } from '../support/network-policies.js';
import {
  ENVIRONMENTS,
  configOf,
  find,
  inputOf,
  objectsOf,
  ofKind,
  renderInput,
  type K8sObject,
} from '../support/platform.js';

/** The labels of the pods a Deployment makes. */
const podLabels = (objects: K8sObject[], name: string, namespace: string) =>
  (
    find(objects, 'Deployment', name, namespace) as unknown as {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    }
  ).spec.template.metadata.labels;

/** The labels of the pods a Job makes. */
const jobLabels = (objects: K8sObject[], name: string, namespace: string) =>
  (
    find(objects, 'Job', name, namespace) as unknown as {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    }
  ).spec.template.metadata.labels;

/** The platform's pods, and the pods around it, as each environment's policies see them. */
function endpointsOf(env: string, objects: K8sObject[] = objectsOf(env)) {
  const config = configOf(env);
  const ns = config.namespace;
  const [team, otherTeam] = config.teams.map((t) => `${ns}-${t.name}`);
  const run = (namespace: string, labels: Record<string, string> = {}): PodEndpoint => ({
    namespace,
    labels: { [PLINTH_LABELS.run]: 'train', ...labels },
  });
  return {
    config,
    controller: { namespace: ns, labels: podLabels(objects, 'controller', ns) },
    tracking: { namespace: ns, labels: podLabels(objects, 'tracking', ns) },
    // CloudNativePG labels its pods itself; these are the labels it sets on an instance.
    postgres: { namespace: ns, labels: { ...DATABASE_POD_LABELS, 'cnpg.io/instanceRole': 'primary' } },
    /** A pod of the platform namespace that is none of its services. */
    stranger: { namespace: ns, labels: { app: 'stranger' } },
    acmeSolver: { namespace: ns, labels: { [ACME_HTTP01_SOLVER_LABEL]: 'true' } },
    run: run(team ?? 'no-team'),
    runOf: run,
    otherTeamRun: run(otherTeam ?? team ?? 'no-team'),
    ingressController: { namespace: config.ingress.controllerNamespace, labels: { app: 'ingress-nginx' } },
    prometheus: { namespace: config.monitoring.prometheusNamespace, labels: { app: 'prometheus' } },
    cnpgOperator: {
      namespace: config.database.kind === 'cloudnative-pg' ? config.database.operatorNamespace : 'cnpg-system',
      labels: { 'app.kubernetes.io/name': 'cloudnative-pg' },
    },
    elsewhere: { namespace: 'default', labels: { app: 'anything' } },
    apiServer: { address: '10.0.0.1' },
    internet: { address: '203.0.113.10' },
  };
}

describe.each(ENVIRONMENTS)('the platform namespace in %s', (env) => {
  const objects = objectsOf(env);
  const net = new NetworkPolicies(objects);
  const e = endpointsOf(env, objects);
  const ns = e.config.namespace;

  it('denies all traffic by default, then lets every pod resolve names', () => {
    expect((find(objects, 'NetworkPolicy', 'default-deny', ns) as unknown as { spec: unknown }).spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
    });
    expect(net.allows(e.stranger, e.internet, 443)).toBe(false);
    expect(net.allows(e.elsewhere, e.stranger, 80)).toBe(false);
    expect(net.allows(e.stranger, { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }, 53)).toBe(true);
  });

  it('opens a policy of its own for each platform service it runs', () => {
    const own = ofKind(objects, 'NetworkPolicy').filter(
      (p) => p.metadata.namespace === ns && !['default-deny', 'allow-dns'].includes(p.metadata.name),
    );
    for (const deployment of ofKind(objects, 'Deployment').filter((d) => d.metadata.namespace === ns)) {
      const labels = podLabels(objects, deployment.metadata.name, ns);
      const selecting = own.filter((p) => selects((p['spec'] as { podSelector: object }).podSelector, labels));
      expect(selecting.map((p) => p.metadata.name)).toEqual([`allow-${deployment.metadata.name}`]);
    }
  });

  it('admits to tracking the team namespaces, the ingress controller, Prometheus and the controller, on its port only', () => {
    for (const team of e.config.teams)
      expect(net.allows(e.runOf(`${ns}-${team.name}`), e.tracking, TRACKING_PORT)).toBe(true);
    expect(net.allows(e.ingressController, e.tracking, TRACKING_PORT)).toBe(true);
    expect(net.allows(e.prometheus, e.tracking, TRACKING_PORT)).toBe(true);
    expect(net.allows(e.controller, e.tracking, TRACKING_PORT)).toBe(true);
    expect(net.allows(e.run, e.tracking, 22)).toBe(false);
    expect(net.allows(e.elsewhere, e.tracking, TRACKING_PORT)).toBe(false);
    expect(net.allows(e.cnpgOperator, e.tracking, TRACKING_PORT)).toBe(false);
  });

  it('admits to the controller only Prometheus, on the metrics port, and lets it out to the API server and the tracking server', () => {
    expect(net.allows(e.prometheus, e.controller, CONTROLLER_PORTS.metrics)).toBe(true);
    expect(net.allows(e.prometheus, e.controller, CONTROLLER_PORTS.health)).toBe(false);
    for (const peer of [e.run, e.ingressController, e.tracking, e.elsewhere]) {
      expect(net.allows(peer, e.controller, CONTROLLER_PORTS.metrics)).toBe(false);
    }
    expect(net.allows(e.controller, e.apiServer, 443)).toBe(true);
    expect(net.allows(e.controller, e.apiServer, 6443)).toBe(true);
    // It makes each run's MLflow run, on the tracking port only.
    expect(net.allows(e.controller, e.tracking, TRACKING_PORT)).toBe(true);
    expect(net.allows(e.controller, e.tracking, 22)).toBe(false);
    expect(net.allows(e.controller, e.postgres, CNPG_PORTS.postgres)).toBe(false);
  });

  it('lets tracking out to Postgres and the artifact store, not to the API server (it has no token)', () => {
    const db = e.config.database;
    if (db.kind === 'cloudnative-pg') expect(net.allows(e.tracking, e.postgres, CNPG_PORTS.postgres)).toBe(true);
    else expect(net.allows(e.tracking, { address: '10.40.130.20' }, db.port)).toBe(true);
    expect(net.allows(e.tracking, e.apiServer, 6443)).toBe(false);
    expect(net.allows(e.tracking, e.controller, CONTROLLER_PORTS.metrics)).toBe(false);
  });

  it('keeps runs away from Postgres, the controller and other teams', () => {
    expect(net.allows(e.run, e.postgres, CNPG_PORTS.postgres)).toBe(false);
    expect(net.allows(e.run, e.controller, CONTROLLER_PORTS.metrics)).toBe(false);
    expect(net.allows(e.run, e.controller, CONTROLLER_PORTS.health)).toBe(false);
    expect(net.allows(e.run, e.apiServer, 6443)).toBe(false);
    if (e.otherTeamRun.namespace !== e.run.namespace) expect(net.allows(e.run, e.otherTeamRun, 8080)).toBe(false);
  });
});

describe.each(['local', 'onprem'])('Postgres (CloudNativePG) in %s', (env) => {
  const net = new NetworkPolicies(objectsOf(env));
  const e = endpointsOf(env);
  const standby = { ...e.postgres, labels: { ...DATABASE_POD_LABELS, 'cnpg.io/instanceRole': 'replica' } };
  const { postgres: pg, status, metrics } = CNPG_PORTS;

  it('admits tracking, the operator and the other instances, and Prometheus to its metrics', () => {
    expect(net.allows(e.tracking, e.postgres, pg)).toBe(true);
    expect(net.allows(e.tracking, e.postgres, status)).toBe(false);
    expect(net.allows(e.cnpgOperator, e.postgres, status)).toBe(true);
    expect(net.allows(e.cnpgOperator, e.postgres, pg)).toBe(true);
    expect(net.allows(standby, e.postgres, pg)).toBe(true);
    expect(net.allows(e.postgres, standby, status)).toBe(true);
    expect(net.allows(e.prometheus, e.postgres, metrics)).toBe(true);
    expect(net.allows(e.prometheus, e.postgres, pg)).toBe(false);
    for (const peer of [e.run, e.controller, e.ingressController, e.elsewhere, e.stranger]) {
      expect(net.allows(peer, e.postgres, pg)).toBe(false);
    }
  });

  it('lets the instances out to the API server, which their instance manager uses', () => {
    expect(net.allows(e.postgres, e.apiServer, 6443)).toBe(true);
    expect(net.allows(e.postgres, e.internet, 80)).toBe(false);
  });
});

describe('the artifact store', () => {
  it("in local is the platform's own store: runs, tracking, Postgres, the controller (logs) and the users' Job reach it on its S3 port, only the Job its admin port", () => {
    const objects = objectsOf('local');
    const net = new NetworkPolicies(objects);
    const e = endpointsOf('local', objects);
    const ns = e.config.namespace;
    const store = { namespace: ns, labels: podLabels(objects, OBJECT_STORE_COMPONENT, ns) };
    const storeUsers = { namespace: ns, labels: jobLabels(objects, STORE_USERS_COMPONENT, ns) };
    const { s3, admin } = OBJECT_STORE_PORTS;
    for (const client of [e.run, e.otherTeamRun, e.tracking, e.postgres, e.controller, storeUsers])
      expect(net.allows(client, store, s3)).toBe(true);
    expect(net.allows(storeUsers, store, admin)).toBe(true);
    for (const client of [e.run, e.tracking, e.postgres, e.controller])
      expect(net.allows(client, store, admin)).toBe(false);
    expect(net.allows(e.run, store, 443)).toBe(false);
    expect(net.allows(e.elsewhere, store, s3)).toBe(false);
    expect(net.allows(e.stranger, store, s3)).toBe(false);
    // The store has nowhere to go but DNS, and its users' Job nowhere but the store.
    expect(net.allows(store, e.internet, 443)).toBe(false);
    expect(net.allows(store, e.apiServer, 6443)).toBe(false);
    expect(net.allows(storeUsers, e.tracking, TRACKING_PORT)).toBe(false);
    expect(net.allows(storeUsers, e.apiServer, 6443)).toBe(false);
    // The store's port is opened to no platform service: they are not the store.
    expect(net.allows(e.run, e.controller, s3)).toBe(false);
    expect(net.allows(e.run, e.postgres, s3)).toBe(false);
    expect(net.allows(e.run, e.stranger, s3)).toBe(false);
    expect(net.allows(e.run, e.internet, 443)).toBe(false);
    const policy = find(objects, 'NetworkPolicy', 'allow-artifact-store', 'plinth-vision');
    expect(policy['spec']).toEqual({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'plinth' } } }],
          ports: [{ protocol: 'TCP', port: 9000 }],
        },
      ],
    });
  });

  it('in the platform namespace but not deployed by the platform, is every pod there but its services, on its port', () => {
    const input = inputOf('local');
    if (input.artifacts.kind !== 's3') throw new Error('local stores artifacts in S3');
    input.artifacts.endpoint = 'http://minio.plinth.svc:9000';
    delete input.artifacts.server;
    const objects = renderInput(input);
    const net = new NetworkPolicies(objects);
    const e = endpointsOf('local', objects);
    const minio = { namespace: e.config.namespace, labels: { app: 'minio' } };
    for (const client of [e.run, e.otherTeamRun, e.tracking, e.postgres])
      expect(net.allows(client, minio, 9000)).toBe(true);
    expect(net.allows(e.elsewhere, minio, 9000)).toBe(false);
    expect(net.allows(e.run, e.controller, 9000)).toBe(false);
    expect(net.allows(e.run, e.postgres, 9000)).toBe(false);
    expect(ofKind(objects, 'Deployment').map((d) => d.metadata.name)).not.toContain(OBJECT_STORE_COMPONENT);
  });

  it('in onprem is named by a host outside the cluster: runs reach only the CIDRs the config gives, on its port', () => {
    const objects = objectsOf('onprem');
    const net = new NetworkPolicies(objects);
    const e = endpointsOf('onprem', objects);
    for (const client of [e.run, e.tracking, e.postgres])
      expect(net.allows(client, { address: '10.30.0.7' }, 9000)).toBe(true);
    expect(net.allows(e.run, { address: '10.31.0.7' }, 9000)).toBe(false);
    expect(net.allows(e.run, { address: '10.30.0.7' }, 443)).toBe(false);
    // 443 is open only to the runs that name a connection reaching it (git), not to every run.
    expect(net.allows(e.run, e.internet, 443)).toBe(false);
    expect(net.allows(e.runOf(e.run.namespace, { [connectionLabel('git')]: 'true' }), e.internet, 443)).toBe(true);
  });

  it('in aws is S3, at addresses AWS does not fix: any address on 443, said in a waiver that plinth check reports', () => {
    const objects = objectsOf('aws');
    const net = new NetworkPolicies(objects);
    const e = endpointsOf('aws', objects);
    expect(net.allows(e.run, e.internet, 443)).toBe(true);
    expect(net.allows(e.run, e.internet, 80)).toBe(false);
    const policy = find(objects, 'NetworkPolicy', 'allow-artifact-store', 'plinth-vision');
    expect(policy.metadata.annotations?.[POLICY_WAIVER_ANNOTATION]).toMatch(
      /^egress-names-destination=AWS S3 .*artifacts\.egressCidrs/,
    );
  });

  it('given egressCidrs, names them wherever the store is, and drops the waiver', () => {
    const input = inputOf('aws');
    if (input.artifacts.kind !== 's3') throw new Error('aws stores artifacts in S3');
    input.artifacts.egressCidrs = ['52.216.0.0/15', '10.40.128.0/17'];
    const objects = renderInput(input);
    const net = new NetworkPolicies(objects);
    const run: PodEndpoint = { namespace: 'plinth-vision', labels: {} };
    expect(net.allows(run, { address: '52.217.1.1' }, 443)).toBe(true);
    expect(net.allows(run, { address: '10.40.130.1' }, 443)).toBe(true);
    expect(net.allows(run, { address: '203.0.113.10' }, 443)).toBe(false);
    expect(
      find(objects, 'NetworkPolicy', 'allow-artifact-store', 'plinth-vision').metadata.annotations,
    ).toBeUndefined();
  });

  it('at an IP endpoint, names that address', () => {
    const input = inputOf('onprem');
    if (input.artifacts.kind !== 's3') throw new Error('onprem stores artifacts in S3');
    input.artifacts.endpoint = 'http://10.30.0.9';
    delete input.artifacts.egressCidrs;
    const net = new NetworkPolicies(renderInput(input));
    const run: PodEndpoint = { namespace: 'plinth-nlp', labels: {} };
    expect(net.allows(run, { address: '10.30.0.9' }, 80)).toBe(true);
    expect(net.allows(run, { address: '10.30.0.8' }, 80)).toBe(false);
  });

  it('as a volume, opens nothing', () => {
    const input = inputOf('local');
    input.artifacts = { kind: 'volume', claimName: 'artifacts' };
    if (input.database.kind === 'cloudnative-pg') input.database.backup = { enabled: false };
    const objects = renderInput(input);
    const names = ofKind(objects, 'NetworkPolicy').map((p) => p.metadata.name);
    expect(names).not.toContain('allow-artifact-store');
  });
});

describe('ACME HTTP-01 solvers', () => {
  it.each(['onprem', 'aws'])(
    'in %s are reachable from the ingress controller only, in each namespace with a certificate',
    (env) => {
      const objects = objectsOf(env);
      const net = new NetworkPolicies(objects);
      const e = endpointsOf(env, objects);
      const namespaces = [e.config.namespace, ...e.config.teams.map((t) => `${e.config.namespace}-${t.name}`)];
      for (const namespace of namespaces) {
        const solver = { namespace, labels: e.acmeSolver.labels };
        expect(net.allows(e.ingressController, solver, 8089)).toBe(true);
        expect(net.allows(e.run, solver, 8089)).toBe(false);
      }
    },
  );

  it('in local (a given issuer) have no policy', () => {
    expect(ofKind(objectsOf('local'), 'NetworkPolicy').map((p) => p.metadata.name)).not.toContain('allow-acme-solver');
  });
});

describe('the namespaces the platform admits', () => {
  it('follow the config: Prometheus, the CloudNativePG operator and the ingress controller', () => {
    const input = inputOf('onprem');
    input.monitoring = { prometheusNamespace: 'observability' };
    if (input.database.kind === 'cloudnative-pg') input.database.operatorNamespace = 'postgres-operator';
    input.ingress.controllerNamespace = 'traefik';
    const net = new NetworkPolicies(renderInput(input));
    const e = endpointsOf('onprem');
    const pod = (namespace: string): PodEndpoint => ({ namespace, labels: {} });
    expect(net.allows(pod('observability'), e.controller, CONTROLLER_PORTS.metrics)).toBe(true);
    expect(net.allows(pod('monitoring'), e.controller, CONTROLLER_PORTS.metrics)).toBe(false);
    expect(net.allows(pod('postgres-operator'), e.postgres, CNPG_PORTS.status)).toBe(true);
    expect(net.allows(pod('cnpg-system'), e.postgres, CNPG_PORTS.status)).toBe(false);
    expect(net.allows(pod('traefik'), e.tracking, TRACKING_PORT)).toBe(true);
    expect(net.allows(pod('ingress-nginx'), e.tracking, TRACKING_PORT)).toBe(false);
  });

  it('leave Prometheus out when monitoring is off', () => {
    const input = inputOf('local');
    input.monitoring = { enabled: false };
    const net = new NetworkPolicies(renderInput(input));
    const e = endpointsOf('local');
    expect(net.allows(e.prometheus, e.controller, CONTROLLER_PORTS.metrics)).toBe(false);
    expect(net.allows(e.prometheus, e.tracking, TRACKING_PORT)).toBe(false);
    expect(net.allows(e.controller, e.apiServer, 443)).toBe(true);
  });
});
