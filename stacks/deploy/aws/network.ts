import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { AwsStackConfig } from '../stack-config.js';

export interface NetworkArgs {
  readonly vpc: AwsStackConfig['vpc'];
  /** NAT gateways: one per zone survives a zone outage; one in all is cheaper for dev. */
  readonly natPerZone: boolean;
  /** The region, whose S3 and STS endpoints a new VPC gets. */
  readonly region: pulumi.Input<string>;
  readonly tags: Record<string, string>;
}

/**
 * Where the cluster and the database live: an existing VPC by id, or a new one across the given
 * number of availability zones, with public subnets for load balancers, private ones for nodes,
 * and interface endpoints for S3 and STS in the private ones.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  readonly publicSubnetIds: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:aws:Network', name, {}, opts);
    const vpcConfig = args.vpc;
    if ('id' in vpcConfig) {
      this.vpcId = pulumi.output(vpcConfig.id);
      this.privateSubnetIds = pulumi.output([...vpcConfig.privateSubnetIds]);
      this.publicSubnetIds = pulumi.output([]);
    } else {
      const parent = { parent: this };
      const zones = aws.getAvailabilityZonesOutput({ state: 'available' }, parent).names.apply((names) => {
        if (names.length < vpcConfig.availabilityZones) {
          throw new Error(
            `plinth:aws.vpc.availabilityZones is ${vpcConfig.availabilityZones}, but the region has ${names.length} zones`,
          );
        }
        return names.slice(0, vpcConfig.availabilityZones);
      });
      const vpc = new aws.ec2.Vpc(
        `${name}-vpc`,
        {
          cidrBlock: vpcConfig.cidr,
          enableDnsHostnames: true,
          enableDnsSupport: true,
          tags: { ...args.tags, Name: name },
        },
        parent,
      );
      const gateway = new aws.ec2.InternetGateway(`${name}-internet`, { vpcId: vpc.id, tags: args.tags }, parent);
      const publicRoutes = new aws.ec2.RouteTable(
        `${name}-public`,
        { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: gateway.id }], tags: args.tags },
        parent,
      );
      const publicSubnets: aws.ec2.Subnet[] = [];
      const privateSubnets: aws.ec2.Subnet[] = [];
      const nats: aws.ec2.NatGateway[] = [];
      const natFor = (zone: number) => {
        const nat = nats[zone] ?? nats[0];
        if (!nat) throw new Error('zone 0 always has a NAT gateway');
        return nat;
      };
      for (let i = 0; i < vpcConfig.availabilityZones; i++) {
        const zone = zones.apply((z) => z[i] ?? '');
        const subnet = (kind: 'public' | 'private', offset: number) =>
          new aws.ec2.Subnet(
            `${name}-${kind}-${i}`,
            {
              vpcId: vpc.id,
              availabilityZone: zone,
              cidrBlock: subnetCidr(vpcConfig.cidr, offset + i),
              mapPublicIpOnLaunch: false,
              tags: {
                ...args.tags,
                Name: `${name}-${kind}-${i}`,
                [kind === 'public' ? 'kubernetes.io/role/elb' : 'kubernetes.io/role/internal-elb']: '1',
              },
            },
            parent,
          );
        const pub = subnet('public', PUBLIC_SUBNETS_FROM);
        publicSubnets.push(pub);
        new aws.ec2.RouteTableAssociation(
          `${name}-public-${i}`,
          { subnetId: pub.id, routeTableId: publicRoutes.id },
          parent,
        );
        if (i === 0 || args.natPerZone) {
          const ip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: 'vpc', tags: args.tags }, parent);
          nats.push(
            new aws.ec2.NatGateway(
              `${name}-nat-${i}`,
              { subnetId: pub.id, allocationId: ip.id, tags: args.tags },
              parent,
            ),
          );
        }
        const priv = subnet('private', PRIVATE_SUBNETS_FROM);
        privateSubnets.push(priv);
        const routes = new aws.ec2.RouteTable(
          `${name}-private-${i}`,
          {
            vpcId: vpc.id,
            routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: natFor(i).id }],
            tags: args.tags,
          },
          parent,
        );
        new aws.ec2.RouteTableAssociation(
          `${name}-private-${i}`,
          { subnetId: priv.id, routeTableId: routes.id },
          parent,
        );
      }
      this.vpcId = vpc.id;
      this.privateSubnetIds = pulumi.all(privateSubnets.map((s) => s.id));
      this.publicSubnetIds = pulumi.all(publicSubnets.map((s) => s.id));
      this.privateEndpoints(name, vpc, args.region, args.tags);
    }
    this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds });
  }

  /**
   * Interface endpoints for S3 and STS in the private subnets, with private DNS: the regional names
   * of both then resolve to addresses in those subnets, so the store's clients (runs, the tracking
   * server) reach S3 and, for their workload identity, STS without a route to AWS's public ranges,
   * and their NetworkPolicies name the private subnets instead of every address on 443.
   */
  private privateEndpoints(
    name: string,
    vpc: aws.ec2.Vpc,
    region: pulumi.Input<string>,
    tags: Record<string, string>,
  ): void {
    const parent = { parent: this };
    const https = new aws.ec2.SecurityGroup(
      `${name}-endpoints`,
      {
        vpcId: vpc.id,
        description: 'HTTPS from the VPC to the S3 and STS interface endpoints',
        ingress: [{ protocol: 'tcp', fromPort: 443, toPort: 443, cidrBlocks: [vpc.cidrBlock] }],
        tags,
      },
      parent,
    );
    for (const service of PRIVATE_ENDPOINT_SERVICES) {
      new aws.ec2.VpcEndpoint(
        `${name}-${service}`,
        {
          vpcId: vpc.id,
          serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
          vpcEndpointType: 'Interface',
          subnetIds: this.privateSubnetIds,
          securityGroupIds: [https.id],
          privateDnsEnabled: true,
          // S3's private DNS answers for every client of the VPC, with no gateway endpoint beside it.
          ...(service === 's3' ? { dnsOptions: { privateDnsOnlyForInboundResolverEndpoint: false } } : {}),
          tags: { ...tags, Name: `${name}-${service}` },
        },
        parent,
      );
    }
  }
}

/** The AWS services the store's clients call, each reached through an interface endpoint in a new VPC. */
const PRIVATE_ENDPOINT_SERVICES = ['s3', 'sts'] as const;

/** A new VPC's /20 blocks: public ones from the start of its range, private ones from its second half. */
const PUBLIC_SUBNETS_FROM = 0;
const PRIVATE_SUBNETS_FROM = 8;

/**
 * The private subnets of a new VPC, where the nodes and the S3 and STS endpoints are: what the
 * store's NetworkPolicies let its clients out to. Known from the config alone, before any resource.
 */
export function privateSubnetCidrs(vpc: { cidr: string; availabilityZones: number }): string[] {
  return Array.from({ length: vpc.availabilityZones }, (_, i) => subnetCidr(vpc.cidr, PRIVATE_SUBNETS_FROM + i));
}

/** The index-th /20 block inside a /16 (or larger) VPC range. */
export function subnetCidr(vpcCidr: string, index: number): string {
  const [a, b] = vpcCidr.split(/[./]/).map(Number);
  return `${a}.${b}.${index * 16}.0/20`;
}
