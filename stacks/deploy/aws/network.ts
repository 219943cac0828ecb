import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { AwsStackConfig } from '../stack-config.js';

export interface NetworkArgs {
  readonly vpc: AwsStackConfig['vpc'];
  /** NAT gateways: one per zone survives a zone outage; one in all is cheaper for dev. */
  readonly natPerZone: boolean;
  readonly tags: Record<string, string>;
}

/**
 * Where the cluster and the database live: an existing VPC by id, or a new one across the given
 * number of availability zones, with public subnets for load balancers and private ones for nodes.
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
        // /20 blocks: public ones from the start of the range, private ones from its second half.
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
        const pub = subnet('public', 0);
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
        const priv = subnet('private', 8);
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
    }
    this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds });
  }
}

/** The index-th /20 block inside a /16 (or larger) VPC range. */
export function subnetCidr(vpcCidr: string, index: number): string {
  const [a, b] = vpcCidr.split(/[./]/).map(Number);
  return `${a}.${b}.${index * 16}.0/20`;
}
