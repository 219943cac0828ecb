import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { serviceRole } from './service-role.js';

export interface EksClusterArgs {
  readonly kubernetesVersion: string;
  readonly subnetIds: pulumi.Input<string[]>;
  readonly tags: Record<string, string>;
}

/**
 * The EKS control plane: private and public endpoints, Kubernetes Secrets encrypted with a KMS
 * key, an OIDC provider for service-account roles, and a kubeconfig that gets tokens from the
 * AWS CLI (no static credentials in it).
 */
export class EksCluster extends pulumi.ComponentResource {
  readonly cluster: aws.eks.Cluster;
  readonly oidcProvider: aws.iam.OpenIdConnectProvider;
  /** The OIDC issuer without its scheme, as IAM trust conditions name it. */
  readonly oidcIssuer: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;

  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:aws:EksCluster', name, {}, opts);
    const parent = { parent: this };
    const { role } = serviceRole(
      `${name}-cluster`,
      'eks.amazonaws.com',
      { [`${name}-cluster`]: 'AmazonEKSClusterPolicy' },
      args.tags,
      parent,
    );
    const secretsKey = new aws.kms.Key(
      `${name}-secrets`,
      { description: `${name}: Kubernetes Secrets envelope encryption`, enableKeyRotation: true, tags: args.tags },
      parent,
    );
    this.cluster = new aws.eks.Cluster(
      `${name}-cluster`,
      {
        version: args.kubernetesVersion,
        roleArn: role.arn,
        vpcConfig: { subnetIds: args.subnetIds, endpointPrivateAccess: true, endpointPublicAccess: true },
        encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ['secrets'] },
        enabledClusterLogTypes: ['api', 'audit', 'authenticator'],
        accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
        tags: args.tags,
      },
      parent,
    );
    const issuerUrl = this.cluster.identities.apply((ids) => {
      const issuer = ids[0]?.oidcs?.[0]?.issuer;
      if (!issuer) throw new Error(`EKS cluster ${name} reports no OIDC issuer`);
      return issuer;
    });
    this.oidcProvider = new aws.iam.OpenIdConnectProvider(
      `${name}-oidc`,
      { url: issuerUrl, clientIdLists: ['sts.amazonaws.com'], tags: args.tags },
      parent,
    );
    this.oidcIssuer = issuerUrl.apply((url) => url.replace(/^https:\/\//, ''));
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([this.cluster.name, this.cluster.endpoint, this.cluster.certificateAuthority.data])
        .apply(([clusterName, endpoint, ca]) => kubeconfigFor(clusterName, endpoint, ca)),
    );
    this.registerOutputs({ clusterName: this.cluster.name, kubeconfig: this.kubeconfig });
  }
}

/** A kubeconfig that runs `aws eks get-token`, so it carries no credentials of its own. */
export function kubeconfigFor(clusterName: string, endpoint: string, caData: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server: endpoint, 'certificate-authority-data': caData } }],
    users: [
      {
        name: clusterName,
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: 'aws',
            args: ['eks', 'get-token', '--cluster-name', clusterName],
          },
        },
      },
    ],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    'current-context': clusterName,
  });
}
