import { describe, expect, it } from 'vitest';
import { POLICY_WAIVER_ANNOTATION } from '../../model/labels.js';
import { ENVIRONMENTS, configOf, find, objectsOf, renderInput } from '../support/platform.js';
import { aws, AWS_PLACEHOLDER_OUTPUTS } from '../../stacks/environments/aws.js';
import { MIN_CONTAINER_REQUEST } from '../../constructs/team-namespace.js';

type Quota = { spec: { hard: Record<string, string | number> } };
type Policy = {
  spec: {
    podSelector: unknown;
    policyTypes: string[];
    egress?: { to?: unknown[]; ports?: { port: number; protocol: string }[] }[];
  };
};

describe.each(ENVIRONMENTS)('team namespaces in %s', (env) => {
  const objects = objectsOf(env);
  const config = configOf(env);

  it.each(config.teams.map((t) => [t.name, t] as const))(
    '%s has a quota with every key, GPUs included',
    (name, team) => {
      const quota = find(objects, 'ResourceQuota', 'team-quota', `plinth-${name}`) as unknown as Quota;
      expect(quota.spec.hard).toEqual({
        'requests.cpu': team.quota.cpu,
        'limits.cpu': team.quota.cpu,
        'requests.memory': team.quota.memory,
        'limits.memory': team.quota.memory,
        'requests.nvidia.com/gpu': team.quota.gpu,
        pods: team.quota.pods,
        services: team.quota.services,
        'count/ingresses.networking.k8s.io': team.quota.ingresses,
      });
      const runs = find(objects, 'ResourceQuota', 'team-runs', `plinth-${name}`) as unknown as Quota;
      expect(runs.spec.hard).toEqual({ 'count/runs.plinth.dev': team.quota.runs });
    },
  );

  it.each(config.teams.map((t) => t.name))(
    '%s refuses pods of a system priority class or with cross-namespace pod affinity, by quota',
    (name) => {
      const system = find(objects, 'ResourceQuota', 'no-system-priority', `plinth-${name}`) as unknown as Quota;
      expect(system.spec).toEqual({
        hard: { pods: 0 },
        scopeSelector: {
          matchExpressions: [
            { scopeName: 'PriorityClass', operator: 'In', values: ['system-cluster-critical', 'system-node-critical'] },
          ],
        },
      });
      const affinity = find(
        objects,
        'ResourceQuota',
        'no-cross-namespace-affinity',
        `plinth-${name}`,
      ) as unknown as Quota;
      expect(affinity.spec).toEqual({ hard: { pods: 0 }, scopes: ['CrossNamespacePodAffinity'] });
    },
  );

  it.each(config.teams)("makes each of $name's run accounts, with its token only where the config says", (team) => {
    for (const account of team.serviceAccounts) {
      const made = find(objects, 'ServiceAccount', account.name, `plinth-${team.name}`) as unknown as {
        automountServiceAccountToken: boolean;
      };
      expect(made.automountServiceAccountToken).toBe(account.mountToken);
    }
  });

  it.each(config.teams.map((t) => t.name))('%s has LimitRange defaults', (name) => {
    const limits = find(objects, 'LimitRange', 'team-defaults', `plinth-${name}`) as unknown as {
      spec: { limits: { type: string; default: unknown; defaultRequest: unknown }[] };
    };
    expect(limits.spec.limits[0]).toMatchObject({
      type: 'Container',
      default: { cpu: '1', memory: '1Gi' },
      min: MIN_CONTAINER_REQUEST,
    });
  });

  it.each(config.teams.map((t) => t.name))(
    '%s denies all traffic by default, then allows DNS, tracking and the artifact store',
    (name) => {
      const ns = `plinth-${name}`;
      const deny = find(objects, 'NetworkPolicy', 'default-deny', ns) as unknown as Policy;
      expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      const dns = find(objects, 'NetworkPolicy', 'allow-dns', ns) as unknown as Policy;
      expect(dns.spec.egress?.[0]?.ports?.map((p) => p.port)).toEqual([53, 53]);
      const tracking = find(objects, 'NetworkPolicy', 'allow-tracking', ns) as unknown as Policy;
      expect(tracking.spec.egress?.[0]).toMatchObject({
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'plinth' } } }],
        ports: [{ port: 5000 }],
      });
      // The store on its one port, at its address, or (a cloud store) with the waiver that says why not.
      const store = find(objects, 'NetworkPolicy', 'allow-artifact-store', ns);
      const [rule, ...others] = (store as unknown as Policy).spec.egress ?? [];
      expect(others).toEqual([]);
      expect(rule?.ports).toHaveLength(1);
      expect(Boolean(rule?.to?.length) || Boolean(store.metadata.annotations?.[POLICY_WAIVER_ANNOTATION])).toBe(true);
    },
  );

  it.each(config.teams.map((t) => [t.name, t] as const))(
    '%s lets out the egress of each connection it may use, only from the pods of runs that name it',
    (name, team) => {
      const ns = `plinth-${name}`;
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === ns);
      const byConnection = policies.filter((p) => p.metadata.name?.startsWith('allow-connection-'));
      const usable = config.connections.filter((c) => c.egress && (team.connections?.includes(c.name) ?? true));
      expect(byConnection.map((p) => p.metadata.name).sort()).toEqual(
        usable.map((c) => `allow-connection-${c.name}`).sort(),
      );
      for (const connection of usable) {
        const policy = find(objects, 'NetworkPolicy', `allow-connection-${connection.name}`, ns) as unknown as Policy;
        expect(policy.spec.podSelector).toEqual({
          matchLabels: { [`connections.plinth.dev/${connection.name}`]: 'true' },
        });
        expect(policy.spec.policyTypes).toEqual(['Egress']);
        const [rule] = policy.spec.egress ?? [];
        expect(rule?.ports).toEqual(connection.egress!.ports.map((port) => ({ protocol: 'TCP', port })));
        expect(rule?.to).toEqual(
          connection.egress!.to.length > 0 ? connection.egress!.to.map((cidr) => ({ ipBlock: { cidr } })) : undefined,
        );
      }
    },
  );

  it.each(config.teams.map((t) => t.name))('%s has a run ServiceAccount with no token', (name) => {
    const sa = find(objects, 'ServiceAccount', 'plinth-run', `plinth-${name}`) as unknown as {
      automountServiceAccountToken: boolean;
    };
    expect(sa.automountServiceAccountToken).toBe(false);
    const bound = objects.filter(
      (o) =>
        o.kind === 'RoleBinding' &&
        (o as unknown as { subjects: { name: string }[] }).subjects.some((s) => s.name === 'plinth-run'),
    );
    expect(bound).toEqual([]);
  });
});

describe('connections in onprem', () => {
  const objects = objectsOf('onprem');
  const egressPolicies = (ns: string) =>
    objects
      .filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === ns)
      .map((o) => o.metadata.name)
      .filter((n) => n?.startsWith('allow-connection-'))
      .sort();

  it('lets out the warehouse only from the teams that may use it', () => {
    expect(egressPolicies('plinth-nlp')).toEqual(['allow-connection-git', 'allow-connection-warehouse']);
    expect(egressPolicies('plinth-vision')).toEqual(['allow-connection-git']);
  });
});

describe('membership in local', () => {
  const objects = objectsOf('local');

  it('binds each member to the ClusterRole of their role in their own namespace only', () => {
    const binding = (role: string) =>
      find(objects, 'RoleBinding', `team-${role}`, 'plinth-vision') as unknown as {
        roleRef: { kind: string; name: string };
        subjects: { kind: string; name: string }[];
      };
    expect(binding('editor').roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'plinth-editor',
    });
    expect(binding('editor').subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'vision-dev' },
    ]);
    expect(binding('viewer').subjects.map((s) => s.name)).toEqual(['vision-observer']);
    expect(binding('admin').subjects.map((s) => s.name)).toEqual(['vision-lead']);
    const nlp = find(objects, 'RoleBinding', 'team-editor', 'plinth-nlp') as unknown as { subjects: unknown[] };
    expect(nlp.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'nlp-researchers' }]);
  });
});

describe('workload identity in aws', () => {
  it("binds the run ServiceAccount to the team's own artifact role, and the tracking server to its own", () => {
    const objects = objectsOf('aws');
    expect(find(objects, 'ServiceAccount', 'plinth-run', 'plinth-vision').metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': AWS_PLACEHOLDER_OUTPUTS.teamRoleArn('vision'),
    });
    expect(find(objects, 'ServiceAccount', 'tracking', 'plinth').metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': AWS_PLACEHOLDER_OUTPUTS.trackingRoleArn,
    });
  });

  it("binds every account a team's runs may act as to the team's role, and no other team's", () => {
    const input = aws();
    input.teams = [
      { ...input.teams![0]!, serviceAccounts: [{ name: 'pipeline' }] },
      { name: 'nlp', quota: { cpu: '1', memory: '1Gi', gpu: 0, maxConcurrentRuns: 1 } },
    ];
    if (input.artifacts.kind !== 's3' || !('workloadIdentity' in input.artifacts.credentials))
      throw new Error('aws reaches S3 through a workload identity');
    input.artifacts.credentials.workloadIdentity.teamRoleArns = { vision: 'arn:vision', nlp: 'arn:nlp' };
    const objects = renderInput(input);
    const roleOf = (name: string, namespace: string) =>
      find(objects, 'ServiceAccount', name, namespace).metadata.annotations?.['eks.amazonaws.com/role-arn'];
    expect(roleOf('plinth-run', 'plinth-vision')).toBe('arn:vision');
    expect(roleOf('pipeline', 'plinth-vision')).toBe('arn:vision');
    expect(roleOf('plinth-run', 'plinth-nlp')).toBe('arn:nlp');
  });
});
