import { runtime } from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { nodeLabels } from '../../model/pools.js';
import { aws } from '../../stacks/environments/aws.js';
import { mockStack, ofType, settled, type RecordedResource } from '../support/pulumi-mocks.js';
import { stackFileConfig } from '../support/stack-files.js';

// AWS is out of reach here: Pulumi's runtime mocks stand in for it (see test/support/pulumi-mocks.ts).
let recorded: RecordedResource[];

beforeAll(async () => {
  recorded = await mockStack(
    'aws-dev',
    { ...stackFileConfig('aws-dev'), 'plinth:databasePassword': 'a-long-s3cret-password' },
    ['plinth:databasePassword'],
  );
  const { deployAws } = await import('../../stacks/deploy/aws/deploy-aws.js');
  const { readStackConfig } = await import('../../stacks/deploy/stack-config.js');
  deployAws(readStackConfig('aws-dev', runtime.allConfig()));
  await settled(recorded);
});

const inputsOf = (type: string) => ofType(recorded, type).map((r) => r.inputs);
const policyOf = (inputs: Record<string, unknown>) => JSON.parse(String(inputs['policy'])) as { Statement: unknown[] };

describe('the aws-dev stack (Pulumi mocks)', () => {
  it('gives each pool a node group whose labels and taints are the pool definition', () => {
    const pools = validatePlatformConfig('aws', aws()).nodePools;
    const groups = ofType(recorded, 'aws:eks/nodeGroup:NodeGroup');
    expect(groups.map((g) => g.name).sort()).toEqual(
      Object.keys(pools)
        .map((p) => `plinth-aws-dev-${p}`)
        .sort(),
    );
    for (const name of ['gpu', 'gpu-a100']) {
      const pool = pools[name]!;
      const group = groups.find((g) => g.name === `plinth-aws-dev-${name}`)!.inputs;
      expect(group['labels']).toEqual({
        ...nodeLabels(name, pool),
        'k8s.amazonaws.com/accelerator': pool.role === 'gpu' ? pool.accelerator : undefined,
      });
      expect(group['taints']).toEqual([{ key: 'nvidia.com/gpu', value: 'present', effect: 'NO_SCHEDULE' }]);
      expect(group['amiType']).toBe('AL2023_x86_64_NVIDIA');
      expect(group['scalingConfig']).toMatchObject({ minSize: 0 });
    }
    const core = groups.find((g) => g.name === 'plinth-aws-dev-core')!.inputs;
    expect(core['taints']).toEqual([{ key: 'plinth.dev/dedicated', value: 'core', effect: 'NO_SCHEDULE' }]);
    expect(core['capacityType']).toBe('ON_DEMAND');
  });

  it('spreads a new VPC over the configured zones', () => {
    expect(inputsOf('aws:ec2/vpc:Vpc')).toEqual([expect.objectContaining({ cidrBlock: '10.40.0.0/16' })]);
    const zones = new Set(inputsOf('aws:ec2/subnet:Subnet').map((s) => s['availabilityZone']));
    expect(zones).toEqual(new Set(['us-east-1a', 'us-east-1b']));
  });

  it('makes RDS Multi-AZ, encrypted, TLS-only and backed up for at least 7 days, reachable from the cluster alone', () => {
    const [db] = inputsOf('aws:rds/instance:Instance');
    expect(db).toMatchObject({ multiAz: true, storageEncrypted: true, publiclyAccessible: false });
    expect(db!['backupRetentionPeriod']).toBeGreaterThanOrEqual(7);
    expect(db!['deletionProtection']).toBe(false);
    const [params] = inputsOf('aws:rds/parameterGroup:ParameterGroup');
    expect(params!['parameters']).toContainEqual({ name: 'rds.force_ssl', value: '1' });
    const firewall = ofType(recorded, 'aws:ec2/securityGroup:SecurityGroup').find(
      (r) => r.name === 'plinth-aws-dev-postgres',
    )?.inputs;
    expect(firewall!['ingress']).toEqual([
      expect.objectContaining({ fromPort: 5432, toPort: 5432, securityGroups: ['sg-cluster'] }),
    ]);
    expect(JSON.stringify(firewall!['ingress'])).not.toContain('cidrBlocks');
  });

  it('versions and encrypts the bucket, blocks public access and refuses plain HTTP', () => {
    expect(inputsOf('aws:s3/bucketVersioning:BucketVersioning')).toEqual([
      expect.objectContaining({ versioningConfiguration: { status: 'Enabled' } }),
    ]);
    const [sse] = inputsOf('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration');
    expect(JSON.stringify(sse)).toContain('"sseAlgorithm":"aws:kms"');
    expect(inputsOf('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock')).toEqual([
      expect.objectContaining({
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      }),
    ]);
    const [bucketPolicy] = inputsOf('aws:s3/bucketPolicy:BucketPolicy');
    expect(policyOf(bucketPolicy!).Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const [lifecycle] = inputsOf('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration');
    expect((lifecycle!['rules'] as { id: string }[]).map((r) => r.id)).toEqual([
      'expire-logs',
      'expire-outputs',
      'noncurrent-versions',
    ]);
  });

  it("grants the tracking server's role and the team's role their own prefixes of the bucket, and the key", () => {
    const policy = (name: string) => {
      const found = ofType(recorded, 'aws:iam/rolePolicy:RolePolicy').find((r) => r.name === name);
      return policyOf(found!.inputs).Statement as { Sid: string; Action: unknown; Resource: unknown }[];
    };
    const resources = (name: string) => policy(name).flatMap((s) => [s.Resource].flat());
    const artifactPolicies = ofType(recorded, 'aws:iam/rolePolicy:RolePolicy').filter((r) =>
      r.name.includes('artifacts'),
    );
    expect(artifactPolicies.map((r) => r.name).sort()).toEqual([
      'plinth-aws-dev-artifacts-vision',
      'plinth-aws-dev-tracking-artifacts',
    ]);
    const bucket = 'arn:aws:s3:::plinth-aws-dev-artifacts-bucket';
    const key = 'arn:aws:kms:us-east-1:123456789012:plinth-aws-dev-artifacts';
    expect(resources('plinth-aws-dev-tracking-artifacts').sort()).toEqual(
      [bucket, `${bucket}/plinth/outputs/*`, `${bucket}/plinth/mlflow/*`, key].sort(),
    );
    expect(resources('plinth-aws-dev-artifacts-vision').sort()).toEqual(
      [bucket, `${bucket}/plinth/outputs/vision/*`, `${bucket}/plinth/logs/vision/*`, key].sort(),
    );
    // The team reads its logs, which only the platform writes.
    expect(policy('plinth-aws-dev-artifacts-vision').find((s) => s.Sid === 'ReadTeamLogs')?.Action).toEqual([
      's3:GetObject',
    ]);
    const all = JSON.stringify(artifactPolicies.map((r) => r.inputs));
    expect(all).not.toMatch(/"Resource":"\*"|s3:\*|postgres/);
  });

  it("lets only the tracking server assume its role, and only the team's run accounts assume the team's", () => {
    const subjects = (name: string) => {
      const role = ofType(recorded, 'aws:iam/role:Role').find((r) => r.name === name)!.inputs;
      const trust = JSON.parse(String(role['assumeRolePolicy'])) as {
        Statement: { Condition: Record<string, Record<string, unknown>> }[];
      };
      return Object.values(trust.Statement[0]!.Condition['ForAnyValue:StringEquals']!)[0];
    };
    expect(subjects('plinth-aws-dev-tracking-artifacts')).toEqual(['system:serviceaccount:plinth:tracking']);
    expect(subjects('plinth-aws-dev-artifacts-vision')).toEqual(['system:serviceaccount:plinth-vision:plinth-run']);
  });

  it('deploys the chart with the cloud outputs in place of their placeholders, and the database password as a secret', () => {
    const objects = recorded.filter((r) => r.type.startsWith('kubernetes:'));
    expect(JSON.stringify(objects.map((o) => o.inputs))).not.toContain('pulumi-output-');
    const tracking = objects.find((o) => o.type === 'kubernetes:apps/v1:Deployment' && o.name.endsWith('/tracking'))!;
    expect(JSON.stringify(tracking.inputs)).toContain(
      '@plinth-aws-dev-postgres.abc.us-east-1.rds.amazonaws.com:5432/plinth?sslmode=verify-full',
    );
    const serviceAccount = objects.find(
      (o) => o.type === 'kubernetes:core/v1:ServiceAccount' && o.name === 'ServiceAccount/plinth/tracking',
    )!;
    expect(JSON.stringify(serviceAccount.inputs)).toContain(
      '"eks.amazonaws.com/role-arn":"arn:aws:iam:us-east-1:123456789012:plinth-aws-dev-tracking-artifacts"',
    );
    const runAccount = objects.find((o) => o.name === 'ServiceAccount/plinth-vision/plinth-run')!;
    expect(JSON.stringify(runAccount.inputs)).toContain(
      '"eks.amazonaws.com/role-arn":"arn:aws:iam:us-east-1:123456789012:plinth-aws-dev-artifacts-vision"',
    );
    const dbSecret = objects.find(
      (o) => o.type === 'kubernetes:core/v1:Secret' && o.name === 'plinth/plinth-db-credentials',
    )!;
    // Registered as a Pulumi secret: encrypted in the state, masked in every log.
    expect(dbSecret.inputs['stringData']).toEqual({
      [runtime.specialSigKey]: runtime.specialSecretSig,
      value: { username: 'plinth', password: 'a-long-s3cret-password' },
    });
    // Everything in the cluster goes through the provider for the new EKS cluster, never an ambient kubeconfig.
    const inCluster = recorded.filter((r) => r.type.startsWith('kubernetes:'));
    expect(
      inCluster.filter((r) => !r.provider?.includes('pulumi:providers:kubernetes::eks::')).map((r) => r.name),
    ).toEqual([]);
    const releases = inputsOf('kubernetes:helm.sh/v3:Release').map((r) => `${r['chart']}@${r['version']}`);
    expect(releases.sort()).toEqual([
      'cert-manager@v1.21.1',
      'cluster-autoscaler@9.59.0',
      'ingress-nginx@4.13.3',
      'nvidia-device-plugin@0.18.0',
    ]);
    // The ingress controller goes where the platform's NetworkPolicies admit it from.
    const ingress = inputsOf('kubernetes:helm.sh/v3:Release').find((r) => r['chart'] === 'ingress-nginx');
    expect(ingress?.['namespace']).toBe(validatePlatformConfig('aws', aws()).ingress.controllerNamespace);
  });

  it('scales every pool with the cluster autoscaler, from zero for GPU pools, knowing each group at zero by its tags', () => {
    const pools = validatePlatformConfig('aws', aws()).nodePools;
    const tags = ofType(recorded, 'aws:autoscaling/tag:Tag').map(
      (t) =>
        t.inputs as { autoscalingGroupName: string; tag: { key: string; value: string; propagateAtLaunch: boolean } },
    );
    const template = (pool: string) =>
      Object.fromEntries(
        tags
          .filter((t) => t.autoscalingGroupName === `eks-plinth-aws-dev-${pool}-asg`)
          .map((t) => [t.tag.key.replace('k8s.io/cluster-autoscaler/node-template/', ''), t.tag.value]),
      );
    expect(template('gpu-a100')).toEqual({
      'label/plinth.dev/pool': 'gpu-a100',
      'label/nvidia.com/gpu.product': 'nvidia-a100',
      'label/k8s.amazonaws.com/accelerator': 'nvidia-a100',
      'taint/nvidia.com/gpu': 'present:NoSchedule',
      'resources/nvidia.com/gpu': '8',
    });
    // Every pool: each label of its node group and each taint, as the group sets them.
    const groups = ofType(recorded, 'aws:eks/nodeGroup:NodeGroup');
    for (const pool of Object.keys(pools)) {
      const group = groups.find((g) => g.name === `plinth-aws-dev-${pool}`)!.inputs;
      const labels = Object.entries(group['labels'] as Record<string, string>).map(([k, v]) => [`label/${k}`, v]);
      expect(Object.entries(template(pool))).toEqual(expect.arrayContaining(labels));
      expect(Object.keys(template(pool)).filter((k) => k.startsWith('taint/'))).toHaveLength(
        (group['taints'] as unknown[]).length,
      );
    }
    expect(tags.every((t) => t.tag.propagateAtLaunch === false)).toBe(true);

    const release = inputsOf('kubernetes:helm.sh/v3:Release').find((r) => r['chart'] === 'cluster-autoscaler')!;
    const values = release['values'] as Record<string, any>;
    expect(values).toMatchObject({
      cloudProvider: 'aws',
      awsRegion: 'us-east-1',
      autoDiscovery: { clusterName: 'plinth-aws-dev-cluster' },
      // The autoscaler's minor is the control plane's (aws.kubernetesVersion, 1.34 by default).
      image: { tag: expect.stringMatching(/^v1\.34\./) },
      rbac: {
        serviceAccount: {
          name: 'cluster-autoscaler',
          annotations: {
            'eks.amazonaws.com/role-arn': 'arn:aws:iam:us-east-1:123456789012:plinth-aws-dev-cluster-autoscaler',
          },
        },
      },
      securityContext: { runAsNonRoot: true },
      containerSecurityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      nodeSelector: { 'plinth.dev/pool': 'core' },
    });
    expect(release['namespace']).toBe('kube-system');

    // Only the autoscaler's account assumes its role, which resizes this cluster's groups alone.
    const role = ofType(recorded, 'aws:iam/role:Role').find((r) => r.name === 'plinth-aws-dev-cluster-autoscaler')!;
    expect(role.inputs['assumeRolePolicy']).toContain('"system:serviceaccount:kube-system:cluster-autoscaler"');
    const policy = ofType(recorded, 'aws:iam/rolePolicy:RolePolicy').find(
      (r) => r.name === 'plinth-aws-dev-cluster-autoscaler',
    )!;
    const scale = (
      policyOf(policy.inputs).Statement as { Action: string[]; Resource: string; Condition?: unknown }[]
    ).find((st) => st.Action.includes('autoscaling:SetDesiredCapacity'));
    expect(scale?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/k8s.io/cluster-autoscaler/plinth-aws-dev-cluster': 'owned' },
    });
  });

  it("runs the NVIDIA device plugin on exactly the GPU pools' nodes, by labels their node groups set", () => {
    const release = inputsOf('kubernetes:helm.sh/v3:Release').find((r) => r['chart'] === 'nvidia-device-plugin')!;
    const values = release['values'] as {
      nodeSelector?: unknown;
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: { matchExpressions: { key: string; operator: string; values: string[] }[] }[];
          };
        };
      };
      tolerations: { key: string; operator: string; value?: string; effect: string }[];
    };
    expect(values.nodeSelector).toBeUndefined();
    const terms = values.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    // What the scheduler would do with these terms, against each node group's labels and taints.
    const selects = (labels: Record<string, string>) =>
      terms.some((term) =>
        term.matchExpressions.every((e) => e.operator === 'In' && e.values.includes(labels[e.key] ?? '')),
      );
    const tolerates = (taint: { key: string; value: string; effect: string }) =>
      values.tolerations.some(
        (t) =>
          t.key === taint.key &&
          t.effect === taint.effect.replace('NO_SCHEDULE', 'NoSchedule') &&
          (t.operator === 'Exists' || t.value === taint.value),
      );
    for (const group of ofType(recorded, 'aws:eks/nodeGroup:NodeGroup').map((g) => g.inputs)) {
      const gpu = group['amiType'] === 'AL2023_x86_64_NVIDIA';
      expect(selects(group['labels'] as Record<string, string>), String(group['clusterName'])).toBe(gpu);
      if (gpu) for (const taint of group['taints'] as never[]) expect(tolerates(taint)).toBe(true);
    }
  });

  it("gives each configured IAM principal an access entry carrying its team's group, and no access policy", () => {
    const entries = inputsOf('aws:eks/accessEntry:AccessEntry');
    expect(entries).toEqual([
      expect.objectContaining({
        clusterName: 'plinth-aws-dev-cluster',
        principalArn: 'arn:aws:iam::123456789012:role/ml-vision',
        type: 'STANDARD',
        kubernetesGroups: ['vision'],
      }),
    ]);
    // The group is the one the team's RoleBinding names.
    const binding = recorded.find(
      (r) =>
        r.type === 'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding' &&
        r.name.startsWith('RoleBinding/plinth-vision/'),
    );
    expect(JSON.stringify(binding?.inputs)).toContain('"kind":"Group","name":"vision"');
    expect(inputsOf('aws:eks/accessPolicyAssociation:AccessPolicyAssociation')).toEqual([]);
  });

  it("reaches S3 and STS through the VPC's own endpoints, and lets the store's clients out to the private subnets only", () => {
    const endpoints = inputsOf('aws:ec2/vpcEndpoint:VpcEndpoint');
    expect(endpoints.map((e) => e['serviceName']).sort()).toEqual([
      'com.amazonaws.us-east-1.s3',
      'com.amazonaws.us-east-1.sts',
    ]);
    for (const endpoint of endpoints) {
      expect(endpoint).toMatchObject({ vpcEndpointType: 'Interface', privateDnsEnabled: true });
      expect(endpoint['subnetIds']).toEqual(['plinth-aws-dev-private-0-id', 'plinth-aws-dev-private-1-id']);
    }
    const privateSubnets = ofType(recorded, 'aws:ec2/subnet:Subnet')
      .filter((s) => s.name.includes('-private-'))
      .map((s) => s.inputs['cidrBlock']);
    expect(privateSubnets).toEqual(['10.40.128.0/20', '10.40.144.0/20']);
    // Every team's runs go out to the store at those subnets, on 443, and nowhere else for it.
    const policy = recorded.find(
      (r) =>
        r.type === 'kubernetes:networking.k8s.io/v1:NetworkPolicy' &&
        r.name === 'NetworkPolicy/plinth-vision/allow-artifact-store',
    );
    const egress = (policy?.inputs as any)?.spec.egress as { to: { ipBlock: { cidr: string } }[]; ports: unknown[] }[];
    expect(egress).toEqual([
      { to: privateSubnets.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: 443 }] },
    ]);
    expect(JSON.stringify(policy?.inputs)).not.toContain('policies.plinth.dev/waive');
  });
});
