import { DEFAULT_RETENTION_DAYS } from '../../model/config/artifact-store.js';
import { z } from 'zod';
import { isRegistry, LOCAL_REGISTRY, REGISTRY_ALLOWED } from '../../images/reference.js';
import { imagePinning } from '../../model/images.js';
import { domainName, pinnedImage } from '../../model/config/primitives.js';
import { poolSize } from '../../model/config/node-pools.js';
import { teamQuota } from '../../model/config/teams.js';
import type { PlatformConfigInput } from '../../model/config/schema.js';
import { formatPath } from '../../model/config/validate.js';
import { PLATFORM_IMAGE_NAMES, platformImages } from '../environments/images.js';

/**
 * A stack's own config (`Pulumi.<stack>.yaml`, key namespace `plinth:`), typed and validated before
 * any resource is registered. It picks the environment the stack deploys and overrides the parts
 * of its PlatformConfig that differ between stacks of one environment.
 */

/** Config keys are written `plinth:<key>`. */
export const CONFIG_NAMESPACE = 'plinth';

/** The base environments a stack can deploy (stacks/environments). */
export const STACK_ENVIRONMENTS = ['local', 'onprem', 'aws'] as const;
export type StackEnvironment = (typeof STACK_ENVIRONMENTS)[number];

/** `local` → local, `onprem` → onprem, `aws-dev` or `aws-prod` → aws; undefined for any other name. */
export function environmentOfStack(stack: string): StackEnvironment | undefined {
  const base = stack.replace(/-(dev|staging|prod)$/, '');
  return STACK_ENVIRONMENTS.find((e) => e === base);
}

/** Stacks whose name ends in "prod" are production: stricter policies, deletion protection. */
export function isProductionStack(stack: string): boolean {
  return /prod$/.test(stack);
}

const cidr = z.string().regex(/^([0-9]{1,3}\.){3}[0-9]{1,3}\/([0-9]|[12][0-9]|3[0-2])$/, {
  error: 'must be an IPv4 CIDR block such as "10.0.0.0/16"',
});

/** EKS minors the stack deploys: each has a cluster-autoscaler of the same minor pinned (cluster-operators.ts). */
export const EKS_KUBERNETES_VERSIONS = ['1.33', '1.34', '1.35'] as const;

const SSO_ROLE_PATH =
  /^(arn:aws[a-z-]*:iam::[0-9]{12}:role)\/aws-reserved\/sso\.amazonaws\.com\/(?:[a-z0-9-]+\/)?(AWSReservedSSO_.+)$/;

const iamPrincipalArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)\/[\w+=,.@/-]+$/, {
    error: 'must be the ARN of an IAM role or user, such as "arn:aws:iam::123456789012:role/ml-vision"',
  })
  .superRefine((arn, ctx) => {
    const sso = SSO_ROLE_PATH.exec(arn);
    if (sso) {
      ctx.addIssue({
        code: 'custom',
        message: `EKS matches an IAM Identity Center role by its ARN without the path: write "${sso[1]}/${sso[2]}"`,
      });
    }
  });

const awsConfig = z.strictObject({
  /** An existing VPC (with at least two private subnets in different zones), or a new one. */
  vpc: z
    .union(
      [
        z.strictObject({
          id: z.string().regex(/^vpc-[0-9a-f]+$/, { error: 'must be a VPC id such as "vpc-0abc123"' }),
          privateSubnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/)).min(2, {
            error: 'needs at least 2 subnets, in different availability zones',
          }),
        }),
        z.strictObject({
          cidr: cidr
            .refine((c) => c.endsWith('/16'), { error: 'a new VPC takes a /16 block, which is split into /20 subnets' })
            .default('10.0.0.0/16'),
          availabilityZones: z.number().int().min(2, { error: 'must be at least 2' }).max(6).default(3),
        }),
      ],
      { error: 'must be { id, privateSubnetIds } for an existing VPC, or { cidr, availabilityZones } for a new one' },
    )
    .default({ cidr: '10.0.0.0/16', availabilityZones: 3 }),
  /** Only minors the node autoscaler is pinned for: it must match the control plane's minor. */
  kubernetesVersion: z
    .enum(EKS_KUBERNETES_VERSIONS, {
      error: `must be one of ${EKS_KUBERNETES_VERSIONS.join(', ')}, the minors a cluster-autoscaler is pinned for`,
    })
    .default('1.34'),
  /**
   * Who is in which team: for each Kubernetes group a team's members name (`teams[].members`, kind
   * Group), the IAM roles or users whose EKS access entries carry that group. An IAM Identity
   * Center permission set's role is named without its path, as EKS matches it.
   */
  groupPrincipals: z.record(z.string().min(1), z.array(iamPrincipalArn).min(1)).default({}),
  database: z
    .strictObject({
      instanceClass: z.string().regex(/^db\./, { error: 'must be an RDS instance class such as "db.r6g.large"' }),
      engineVersion: z.string().default('17'),
      allocatedStorageGb: z.number().int().min(20, { error: 'must be at least 20' }).default(100),
      backupRetentionDays: z.number().int().min(7, { error: 'must be at least 7 days' }).max(35).default(14),
    })
    .default({ instanceClass: 'db.r6g.large', engineVersion: '17', allocatedStorageGb: 100, backupRetentionDays: 14 }),
  /** Days before objects under the artifact prefix expire; non-current versions go after `noncurrentDays`. */
  retention: z
    .strictObject({
      logsDays: z.number().int().min(1).default(DEFAULT_RETENTION_DAYS.logs),
      outputsDays: z.number().int().min(1).default(DEFAULT_RETENTION_DAYS.outputs),
      noncurrentDays: z.number().int().min(1).default(30),
    })
    .default({
      logsDays: DEFAULT_RETENTION_DAYS.logs,
      outputsDays: DEFAULT_RETENTION_DAYS.outputs,
      noncurrentDays: 30,
    }),
  /** Cluster add-ons installed as Helm releases at pinned chart versions. */
  operators: z
    .strictObject({
      certManager: z.boolean().default(true),
      cloudNativePg: z.boolean().default(false),
      clusterAutoscaler: z.boolean().default(true),
      ingressNginx: z.boolean().default(true),
      nvidiaDevicePlugin: z.boolean().default(true),
    })
    .prefault({}),
});
export type AwsStackConfig = z.output<typeof awsConfig>;

type PlatformImageKey = keyof typeof PLATFORM_IMAGE_NAMES;
const PLATFORM_IMAGE_KEYS = Object.keys(PLATFORM_IMAGE_NAMES) as PlatformImageKey[];

const stackImages = z
  .strictObject({
    registry: z.string().refine(isRegistry, { error: `must be ${REGISTRY_ALLOWED}` }),
    ...(Object.fromEntries(PLATFORM_IMAGE_KEYS.map((key) => [key, pinnedImage])) as Record<
      PlatformImageKey,
      typeof pinnedImage
    >),
  })
  .partial();
type ImagePins = Omit<z.output<typeof stackImages>, 'registry'>;

/** Where the stack's nodes pull from when it names no registry; only the local cluster has its images loaded. */
const DEFAULT_REGISTRY: Partial<Record<StackEnvironment, string>> = { local: LOCAL_REGISTRY };

export const stackConfigSchema = z.strictObject({
  /** Overrides the environment derived from the stack name. */
  environment: z.enum(STACK_ENVIRONMENTS, { error: `must be one of ${STACK_ENVIRONMENTS.join(', ')}` }).optional(),
  /** local and onprem: the kubeconfig context of the target cluster (KUBECONFIG says which file). */
  kubeContext: z.string().min(1).optional(),
  domain: domainName.optional(),
  /**
   * `registry` names every platform image `<registry>/<name>:<hash>` (required outside local); an
   * image's own key pins it, by digest in production, to a reference in that registry.
   */
  images: stackImages.optional(),
  /** Per pool: node count range and instance types. */
  nodePools: z
    .record(
      z.string(),
      z.strictObject({ size: poolSize.optional(), instanceTypes: z.array(z.string().min(1)).min(1).optional() }),
    )
    .optional(),
  /** Per team: any of cpu, memory, gpu, maxConcurrentRuns. */
  teamQuotas: z.record(z.string(), teamQuota.partial()).optional(),
  /**
   * Wait for Ingresses to get an address. Turn off where no ingress controller reports one
   * (the local harness), or `pulumi up` waits for its timeout.
   */
  awaitIngress: z.boolean().default(true),
  /**
   * onprem (and local, were its store outside the platform), with an S3 store whose keys are a
   * Secret: set with `pulumi config set --secret`. The platform's own store (`artifacts.server`)
   * derives them from artifactStoreAdmin instead, and refuses them.
   */
  artifactCredentials: z
    .strictObject({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) })
    .optional(),
  /**
   * local and onprem, set with `pulumi config set --secret`: with a MinIO store, keys of a MinIO
   * user with admin rights; with the platform's own store (`artifacts.server`, required there), its
   * root keys, of the access key id and secret key you choose. With them, `pulumi up` makes each
   * team's user and policy and writes the team's Secret artifact-store-<team>.
   */
  artifactStoreAdmin: z.strictObject({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(8) }).optional(),
  /** aws-* stacks: the RDS master password, set with `pulumi config set --secret`. */
  databasePassword: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  /** aws-* stacks: what to provision; every field has a default. */
  aws: awsConfig.prefault({}),
});
export type StackConfig = Omit<z.output<typeof stackConfigSchema>, 'images'> & {
  readonly stack: string;
  readonly environment: StackEnvironment;
  readonly production: boolean;
  /** The registry every platform image is named in, and the images the stack pins there. */
  readonly images: ImagePins & { readonly registry: string };
};

/** Raised before any resource is registered; names each bad key as it is written in Pulumi.<stack>.yaml. */
export class StackConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly issues: readonly { key: string; message: string }[],
  ) {
    super(`invalid config for stack "${stackName}":\n` + issues.map((i) => `  - ${i.key}: ${i.message}`).join('\n'));
    this.name = 'StackConfigError';
  }
}

/** `plinth:teamQuotas.vision.gpu`, as `pulumi config set --path` takes it. */
function configKey(path: readonly PropertyKey[]): string {
  return path.length === 0 ? CONFIG_NAMESPACE : `${CONFIG_NAMESPACE}:${formatPath(path)}`;
}

/** Pulumi hands config values over as strings; structured ones are JSON. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * Validates the `plinth:` keys of a stack's config (as `pulumi.runtime.allConfig()` returns them)
 * and names the environment it deploys. Every problem is reported at once.
 */
export function readStackConfig(stack: string, allConfig: Record<string, string>): StackConfig {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw = Object.fromEntries(
    Object.entries(allConfig)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), decode(value)]),
  );
  const result = stackConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new StackConfigError(
      stack,
      result.error.issues.flatMap((i) =>
        // An unknown key is reported at the key itself, where a typo is easiest to see.
        i.code === 'unrecognized_keys'
          ? i.keys.map((k) => ({ key: configKey([...i.path, k]), message: 'unknown key' }))
          : [{ key: configKey(i.path), message: i.message }],
      ),
    );
  }
  const environment = result.data.environment ?? environmentOfStack(stack);
  if (!environment) {
    throw new StackConfigError(stack, [
      {
        key: configKey(['environment']),
        message: `stack "${stack}" does not name an environment; name the stack local, onprem or aws-<name>, or set ${configKey(['environment'])} to one of ${STACK_ENVIRONMENTS.join(', ')}`,
      },
    ]);
  }
  const production = isProductionStack(stack);
  const issues: { key: string; message: string }[] = [];
  const { registry = DEFAULT_REGISTRY[environment], ...pins } = result.data.images ?? {};
  if (registry) {
    issues.push(...imagePinIssues(registry, pins, production));
  } else {
    issues.push({
      key: configKey(['images', 'registry']),
      message:
        `must be set for the ${environment} environment: the registry the cluster pulls the platform's images from, ` +
        `${REGISTRY_ALLOWED}; build the images with npm run images, push them there (README, "Pushing to your registry") ` +
        `and set it with: pulumi config set --path ${configKey(['images', 'registry'])} <registry>`,
    });
  }
  if (environment === 'aws') {
    if (!result.data.databasePassword) {
      issues.push({
        key: configKey(['databasePassword']),
        message: `must be set for an aws stack, as a secret: pulumi config set --secret ${configKey(['databasePassword'])}`,
      });
    }
    // On AWS each team's runs reach the bucket through a role of their own, never keys.
    for (const key of ['artifactCredentials', 'artifactStoreAdmin'] as const) {
      if (key in raw) issues.push({ key: configKey([key]), message: 'applies to local and onprem stacks only' });
    }
  } else {
    if (!result.data.kubeContext) {
      issues.push({
        key: configKey(['kubeContext']),
        message: `must be set: the ${environment} environment deploys to an existing cluster`,
      });
    }
    for (const key of ['aws', 'databasePassword'] as const) {
      if (key in raw) issues.push({ key: configKey([key]), message: 'applies to aws stacks only' });
    }
  }
  if (issues.length > 0 || !registry) throw new StackConfigError(stack, issues);
  return { ...result.data, stack, environment, production, images: { ...pins, registry } };
}

/**
 * A pin names its image in the stack's registry, so that no image comes from elsewhere unnoticed;
 * production pins every image by digest, since a tag can be pushed again.
 */
function imagePinIssues(registry: string, pins: ImagePins, production: boolean): { key: string; message: string }[] {
  const list = `npm run -s images -- list --digests --registry ${registry}`;
  return PLATFORM_IMAGE_KEYS.flatMap((key) => {
    const name = PLATFORM_IMAGE_NAMES[key];
    const repository = `${registry}/${name}`;
    const image = pins[key];
    const issues: { key: string; message: string }[] = [];
    if (image !== undefined && !image.startsWith(`${repository}:`) && !image.startsWith(`${repository}@`)) {
      issues.push({
        key: configKey(['images', key]),
        message: `image "${image}" is not in the stack's registry; allowed: ${repository}:<tag>@sha256:<digest>, the "${name}" line of ${list}`,
      });
    }
    if (production && (image === undefined || !imagePinning(image).digest)) {
      issues.push({
        key: configKey(['images', key]),
        message:
          `${image === undefined ? 'must be set, pinned' : `image "${image}" must be pinned`} by @sha256 digest, in a production stack: ` +
          `build and push the images (README, "Pushing to your registry"), then set it to the "${name}" line of ${list}`,
      });
    }
    return issues;
  });
}

/**
 * The environment's PlatformConfig with the stack's overrides applied. Overrides may only name
 * pools and teams the environment defines, so a typo never adds a pool or a team.
 */
export function applyStackOverrides(base: PlatformConfigInput, config: StackConfig): PlatformConfigInput {
  const issues: { key: string; message: string }[] = [];
  const input = structuredClone(base);
  input.name = config.stack;
  input.production = config.production;
  if (config.domain) input.ingress = { ...input.ingress, domain: config.domain };
  const { registry, ...pins } = config.images;
  input.images = { ...platformImages(registry), ...pins };

  const pools = Object.keys(input.nodePools);
  for (const [name, override] of Object.entries(config.nodePools ?? {})) {
    const pool = input.nodePools[name];
    if (!pool) {
      issues.push({ key: configKey(['nodePools', name]), message: `no such pool; allowed: ${pools.join(', ')}` });
      continue;
    }
    input.nodePools[name] = { ...pool, ...override };
  }

  const teams = input.teams ?? [];
  for (const [name, quota] of Object.entries(config.teamQuotas ?? {})) {
    const team = teams.find((t) => t.name === name);
    if (!team) {
      issues.push({
        key: configKey(['teamQuotas', name]),
        message: `no such team; allowed: ${teams.map((t) => t.name).join(', ') || '(none)'}`,
      });
      continue;
    }
    team.quota = { ...team.quota, ...quota };
  }
  if (issues.length > 0) throw new StackConfigError(config.stack, issues);
  return input;
}
