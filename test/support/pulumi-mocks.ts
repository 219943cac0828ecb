import * as pulumi from '@pulumi/pulumi';
import { expect } from 'vitest';
import { checkResources, violations } from '../../policies/check.js';
import { createContext } from '../../policies/context.js';
import { describeResource, fromManifest } from '../../policies/resource.js';

/**
 * Pulumi's runtime mocks: the one stand-in in these tests, because AWS cannot be reached from
 * here. The program registers its real resources; the mock engine records their inputs and
 * answers with plausible outputs (ids, ARNs, names) instead of calling AWS.
 */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** The provider reference (`<urn>::<id>`) the resource is managed by, where one was given. */
  readonly provider?: string;
}

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d'];

function mockOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const arn = `arn:aws:${type.split(':')[1]?.split('/')[0]}:us-east-1:123456789012:${name}`;
  switch (type) {
    case 'aws:eks/cluster:Cluster':
      return {
        ...inputs,
        arn,
        name,
        endpoint: `https://${name}.eks.example`,
        certificateAuthority: { data: 'Y2E=' },
        identities: [{ oidcs: [{ issuer: `https://oidc.eks.us-east-1.amazonaws.com/id/${name}` }] }],
        vpcConfig: { ...(inputs['vpcConfig'] as object), clusterSecurityGroupId: 'sg-cluster' },
      };
    case 'aws:s3/bucket:Bucket':
      return { ...inputs, arn: `arn:aws:s3:::${name}-bucket`, bucket: `${name}-bucket` };
    case 'aws:eks/nodeGroup:NodeGroup':
      return { ...inputs, arn, resources: [{ autoscalingGroups: [{ name: `eks-${name}-asg` }] }] };
    case 'aws:rds/instance:Instance':
      return { ...inputs, arn, address: `${name}.abc.us-east-1.rds.amazonaws.com`, endpoint: `${name}.abc:5432` };
    default:
      return { ...inputs, arn, name: inputs['name'] ?? name };
  }
}

/**
 * Starts the mock engine for one stack with the given config (secret keys as Pulumi marks them),
 * and returns the list it records every resource into.
 */
export async function mockStack(
  stack: string,
  config: Record<string, string>,
  secretKeys: string[] = [],
): Promise<RecordedResource[]> {
  const recorded: RecordedResource[] = [];
  pulumi.runtime.setAllConfig(config, secretKeys);
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs, provider }) => {
        recorded.push({ type, name, inputs, provider });
        return { id: `${name}-id`, state: mockOutputs(type, name, inputs) };
      },
      call: ({ token, inputs }) =>
        token === 'aws:index/getAvailabilityZones:getAvailabilityZones' ? { names: ZONES } : inputs,
    },
    'plinth',
    stack,
    false,
  );
  return recorded;
}

/** Waits until no resource has been registered for a while: the program's outputs have settled. */
export async function settled(recorded: readonly RecordedResource[], quietMs = 300): Promise<void> {
  let seen = -1;
  while (seen !== recorded.length) {
    seen = recorded.length;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  }
}

/** Inputs of the resources of one type. */
export function ofType(recorded: readonly RecordedResource[], type: string): RecordedResource[] {
  return recorded.filter((r) => r.type === type);
}

/**
 * The stringData of the Secret registered as `<namespace>/<name>`, which must be registered as a
 * Pulumi secret: encrypted in the state, masked in every log.
 */
export function secretStringData(recorded: readonly RecordedResource[], name: string): Record<string, string> {
  const found = ofType(recorded, 'kubernetes:core/v1:Secret').find((r) => r.name === name);
  if (!found) throw new Error(`no Secret ${name}`);
  const stringData = found.inputs['stringData'] as {
    [pulumi.runtime.specialSigKey]: string;
    value: Record<string, string>;
  };
  expect(stringData[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);
  return stringData.value;
}

/** What the project's policies find wrong with the Kubernetes objects the program registered. */
export function policyViolationsOf(recorded: readonly RecordedResource[]): string[] {
  const objects = recorded
    .filter((r) => r.type.startsWith('kubernetes:') && r.inputs['metadata'])
    .map((r) => fromManifest(r.inputs));
  return violations(checkResources(createContext(objects))).map(
    (r) => `${r.rule.id} ${describeResource(r.resource)} ${r.finding.message}`,
  );
}
