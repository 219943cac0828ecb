import { z } from 'zod';
import { imagePinning } from './image-ref.js';

/**
 * The PlatformConfig schema: the one typed description of an environment.
 * Defaults live here and nowhere else; constructs, the controller's ConfigMap and the Pulumi
 * stacks all read the parsed result.
 */

/** The taint every GPU node carries unless an environment configures its own. */
export const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' } as const;
/** The extended resource GPU nodes advertise and runs request. */
export const GPU_RESOURCE = 'nvidia.com/gpu';
/** The label every pool's nodes carry, so a pool can always be selected by name. */
export const POOL_LABEL = 'plinth.dev/pool';

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
  error: 'must be a DNS label: lower-case letters, digits and "-", at most 63 characters',
});

/** Kubernetes quantities such as "500m", "2", "16Gi". */
const quantity = z
  .union([z.string(), z.number()])
  .transform(String)
  .pipe(
    z.string().regex(/^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|[numkMGTPE]i?|Ki)?$/, {
      error: 'must be a Kubernetes quantity such as "500m", "2" or "16Gi", and not negative',
    }),
  );

/** Images are pinned: an exact tag (never "latest") or a digest. */
export const pinnedImage = z.string().superRefine((image, ctx) => {
  const { digest: hasDigest, tag } = imagePinning(image);
  if (!hasDigest && !tag) {
    ctx.addIssue({ code: 'custom', message: `image "${image}" is not pinned: add an exact tag or a @sha256 digest` });
  } else if (tag === 'latest') {
    ctx.addIssue({ code: 'custom', message: `image "${image}" uses "latest": pin an exact tag or a @sha256 digest` });
  }
});

const taint = z.strictObject({
  key: z.string().min(1),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});
export type Taint = z.infer<typeof taint>;

export const poolSize = z
  .strictObject({
    min: z.number().int().min(0, { error: 'must be 0 or more' }),
    max: z.number().int().min(0, { error: 'must be 0 or more' }),
  })
  .refine((s) => s.max >= s.min, { error: 'max must be at least min', path: ['max'] });

const poolBase = {
  /** Extra node labels; `plinth.dev/pool: <name>` is always added. */
  labels: z.record(z.string(), z.string()).default({}),
  /** Cloud instance types for provisioned pools (used by the Pulumi stacks). */
  instanceTypes: z.array(z.string().min(1)).default([]),
  /** Node count range for provisioned pools. */
  size: poolSize.default({ min: 1, max: 3 }),
};

const corePool = z.strictObject({
  role: z.literal('core'),
  ...poolBase,
  /** Taints only core services tolerate, so nothing else lands on core nodes. */
  taints: z.array(taint).default([]),
});

const cpuPool = z.strictObject({
  role: z.literal('cpu'),
  ...poolBase,
  taints: z.array(taint).default([]),
});

const gpuPool = z.strictObject({
  role: z.literal('gpu'),
  ...poolBase,
  /** The accelerator model, also set as the `nvidia.com/gpu.product` node label. */
  accelerator: z.string().min(1, { error: 'must name the accelerator, e.g. "nvidia-a100"' }),
  /** GPUs per node. */
  gpusPerNode: z.number().int().min(1, { error: 'must be at least 1' }).default(8),
  /** Defaults to the standard GPU taint; must not be empty, or CPU workloads would take GPU nodes. */
  taints: z
    .array(taint)
    .default([{ ...GPU_TAINT }])
    .refine((t) => t.some((x) => x.effect === 'NoSchedule' || x.effect === 'NoExecute'), {
      error: `a GPU pool needs a NoSchedule taint (the default is ${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect}) so that CPU workloads stay off GPU nodes`,
    }),
});

export const nodePool = z.discriminatedUnion('role', [corePool, cpuPool, gpuPool], {
  error: 'must be one of "core", "cpu", "gpu"',
});
export type NodePool = z.infer<typeof nodePool>;

const resources = z.strictObject({
  requests: z.strictObject({ cpu: quantity, memory: quantity }),
  limits: z.strictObject({ cpu: quantity, memory: quantity }),
});
export type Resources = z.infer<typeof resources>;

const s3Store = z.strictObject({
  kind: z.literal('s3'),
  bucket: z.string().min(3),
  region: z.string().min(1),
  /** For MinIO or another S3-compatible store. */
  endpoint: z.url().optional(),
  /** Prefix inside the bucket under which runs, logs and backups are written. */
  prefix: z.string().default('plinth'),
  credentials: z.union(
    [
      z.strictObject({
        secret: z.strictObject({
          name: z.string().min(1),
          accessKeyIdKey: z.string().default('AWS_ACCESS_KEY_ID'),
          secretAccessKeyKey: z.string().default('AWS_SECRET_ACCESS_KEY'),
        }),
      }),
      z.strictObject({ workloadIdentity: z.strictObject({ roleArn: z.string().min(1) }) }),
    ],
    { error: 'credentials must be { secret: { name } } or { workloadIdentity: { roleArn } }' },
  ),
});

const gcsStore = z.strictObject({
  kind: z.literal('gcs'),
  bucket: z.string().min(3),
  prefix: z.string().default('plinth'),
  credentials: z.union(
    [
      z.strictObject({
        secret: z.strictObject({ name: z.string().min(1), key: z.string().default('credentials.json') }),
      }),
      z.strictObject({ workloadIdentity: z.strictObject({ serviceAccount: z.email() }) }),
    ],
    { error: 'credentials must be { secret: { name } } or { workloadIdentity: { serviceAccount } }' },
  ),
});

const volumeStore = z.strictObject({
  kind: z.literal('volume'),
  claimName: dnsLabel,
  size: quantity.default('100Gi'),
  storageClass: z.string().optional(),
});

export const artifactStore = z.discriminatedUnion('kind', [s3Store, gcsStore, volumeStore], {
  error: 'must be one of "s3", "gcs", "volume"',
});
export type ArtifactStore = z.infer<typeof artifactStore>;

/** Where the artifact store's volume is mounted in run containers; connections may not mount over it. */
export const ARTIFACTS_MOUNT_PATH = '/artifacts';

const mountPath = z
  .string()
  .regex(/^\/[^:]*[^/:]$/, { error: 'must be an absolute path other than "/", such as "/etc/plinth/git"' });

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: 'must be an environment variable name: letters, digits and "_", not starting with a digit',
});

/** A Secret or ConfigMap in each team namespace: its keys become env, or its files appear at mountPath. */
const namespacedSource = z.strictObject({ name: dnsLabel, mountPath: mountPath.optional() });

/**
 * A platform connection (Polyaxon's term) that runs name in `spec.connections`: a dataset volume, a
 * model hub, a git host. Its Secret or ConfigMap (made by the team's admins) or volume claim (made by
 * platform engineers) lives in each team namespace, so no credential passes through the config.
 */
const connection = z
  .strictObject({
    /** Part of the pod's volume names (`conn-<name>-secret`), hence shorter than a DNS label. */
    name: dnsLabel.max(50, { error: 'must be at most 50 characters' }),
    description: z.string().optional(),
    /** Plain settings, such as a bucket URI; never credentials, which belong in the Secret. */
    env: z
      .record(
        envName.refine((n) => !n.startsWith('PLINTH_'), { error: 'PLINTH_ variables are set by the platform' }),
        z.string(),
      )
      .default({}),
    secret: namespacedSource.optional(),
    configMap: namespacedSource.optional(),
    /** A PersistentVolumeClaim, such as a shared dataset volume; read-only unless said otherwise. */
    volumeClaim: z.strictObject({ claimName: dnsLabel, mountPath, readOnly: z.boolean().default(true) }).optional(),
    /**
     * What the team namespaces' default-deny NetworkPolicies let out, for the pods of runs that
     * name the connection only: TCP ports, to any address or only to the CIDRs in `to`.
     */
    egress: z
      .strictObject({
        ports: z
          .array(
            z.number().int().min(1, { error: 'must be a port from 1 to 65535' }).max(65535, {
              error: 'must be a port from 1 to 65535',
            }),
          )
          .min(1, { error: 'must list at least one port' })
          .max(16),
        to: z.array(z.union([z.cidrv4(), z.cidrv6()], { error: 'must be a CIDR such as "10.20.0.0/16"' })).default([]),
      })
      .optional(),
  })
  .refine((c) => Object.keys(c.env).length > 0 || c.secret || c.configMap || c.volumeClaim || c.egress, {
    error: 'gives a run nothing: set env, secret, configMap, volumeClaim or egress',
  });
export type Connection = z.infer<typeof connection>;
export type ConnectionInput = z.input<typeof connection>;

const cloudNativePg = z.strictObject({
  kind: z.literal('cloudnative-pg'),
  instances: z.number().int().min(1, { error: 'must be at least 1' }).default(3),
  storage: z.strictObject({ size: quantity, storageClass: z.string().optional() }).default({ size: '20Gi' }),
  resources: resources.default({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '4Gi' } }),
  /** Synchronous standbys that must confirm each commit; 0 turns synchronous replication off (local only). */
  synchronousReplicas: z.number().int().min(0).default(1),
  backup: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Six-field cron (seconds first), as CloudNativePG expects. */
      schedule: z.string().default('0 0 2 * * *'),
      retention: z
        .string()
        .regex(/^[1-9][0-9]*[dwm]$/, { error: 'must be a number of days, weeks or months, e.g. "30d"' })
        .default('30d'),
    })
    .default({ enabled: true, schedule: '0 0 2 * * *', retention: '30d' }),
});

const externalDatabase = z.strictObject({
  kind: z.literal('external'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(5432),
  database: z.string().min(1).default('plinth'),
  sslMode: z.enum(['require', 'verify-ca', 'verify-full']).default('require'),
  /** A Secret in the platform namespace with `username` and `password` keys. */
  credentialsSecret: z.string().min(1),
});

export const database = z.discriminatedUnion('kind', [cloudNativePg, externalDatabase], {
  error: 'must be one of "cloudnative-pg", "external"',
});
export type Database = z.infer<typeof database>;

const tls = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('acme'),
      email: z.email({ error: 'an ACME issuer needs the email address of the certificate owner' }),
      server: z.url().default('https://acme-v02.api.letsencrypt.org/directory'),
    }),
    z.strictObject({
      kind: z.literal('issuer'),
      name: z.string().min(1),
      issuerKind: z.enum(['ClusterIssuer', 'Issuer']).default('ClusterIssuer'),
    }),
    z.strictObject({
      kind: z.literal('secret'),
      /** An existing TLS Secret, present in the platform namespace and in every team namespace. */
      secretName: z.string().min(1),
    }),
  ],
  { error: 'must be one of "acme", "issuer", "secret"' },
);

export const domainName = z
  .string()
  .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, { error: 'must be a DNS domain such as "ml.example.com"' });

const ingress = z.strictObject({
  domain: domainName,
  className: z.string().default('nginx'),
  /** Where the ingress controller runs; team NetworkPolicies admit traffic from it to run services. */
  controllerNamespace: dnsLabel.default('ingress-nginx'),
  tls,
});

const security = z
  .strictObject({
    runAsUser: z.number().int().min(1, { error: 'must be a non-root uid (1 or more)' }).default(10001),
    runAsGroup: z.number().int().min(1, { error: 'must be a non-root gid (1 or more)' }).default(10001),
    fsGroup: z.number().int().min(1, { error: 'must be a non-root gid (1 or more)' }).default(10001),
  })
  .default({ runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 });

const member = z.strictObject({
  kind: z.enum(['User', 'Group']),
  name: z.string().min(1),
  role: z.enum(['admin', 'editor', 'viewer'], { error: 'must be one of "admin", "editor", "viewer"' }),
});

export const teamQuota = z.strictObject({
  cpu: quantity,
  memory: quantity,
  gpu: z.number().int().min(0, { error: 'must be 0 or more' }),
  maxConcurrentRuns: z.number().int().min(0, { error: 'must be 0 or more' }),
});

const team = z.strictObject({
  name: dnsLabel,
  members: z.array(member).default([]),
  quota: teamQuota,
  /** Pools the team's runs may use; defaults to every cpu and gpu pool. */
  pools: z.array(z.string()).optional(),
  /** Connections the team's runs may name; defaults to every connection. */
  connections: z.array(z.string()).optional(),
});
export type Team = z.infer<typeof team>;

const coreService = (replicas: number, res: Resources) =>
  z
    .strictObject({
      replicas: z.number().int().min(1, { error: 'must be at least 1' }).default(replicas),
      resources: resources.default(res),
    })
    .default({ replicas, resources: res });

export const platformConfigSchema = z
  .strictObject({
    /** The environment name, used in errors and in the `plinth.dev/environment` label. */
    name: dnsLabel,
    /** Production environments are held to stricter rules: images pinned by digest, multi-AZ databases. */
    production: z.boolean().default(false),
    /** Namespace of the platform's own services. */
    namespace: dnsLabel.default('plinth'),
    images: z.strictObject({
      controller: pinnedImage,
      trackingServer: pinnedImage,
      /** Postgres operand image for CloudNativePG. */
      postgres: pinnedImage,
    }),
    nodePools: z.record(dnsLabel, nodePool),
    database,
    artifacts: artifactStore,
    /** What runs may connect to beyond the artifact store, which every run gets. */
    connections: z.array(connection).default([]),
    ingress,
    security,
    teams: z.array(team).default([]),
    runs: z.strictObject({ defaultPool: z.string().default('cpu') }).default({ defaultPool: 'cpu' }),
    controller: coreService(2, {
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    }),
    tracking: coreService(2, { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } }),
    monitoring: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** A run pending longer than this raises an alert. */
        pendingRunAlertMinutes: z.number().int().min(1).default(30),
      })
      .default({ enabled: true, pendingRunAlertMinutes: 30 }),
  })
  .superRefine((config, ctx) => {
    const pools = Object.entries(config.nodePools);
    const byRole = (role: NodePool['role']) => pools.filter(([, p]) => p.role === role).map(([n]) => n);
    const runPools = [...byRole('cpu'), ...byRole('gpu')];
    const allowed = `one of ${runPools.map((p) => `"${p}"`).join(', ') || '(no cpu or gpu pool defined)'}`;

    for (const role of ['core', 'cpu', 'gpu'] as const) {
      if (byRole(role).length === 0) {
        ctx.addIssue({ code: 'custom', path: ['nodePools'], message: `needs at least one pool with role "${role}"` });
      }
    }
    if (byRole('core').length > 1) {
      ctx.addIssue({ code: 'custom', path: ['nodePools'], message: 'exactly one pool may have role "core"' });
    }
    if (!runPools.includes(config.runs.defaultPool)) {
      ctx.addIssue({
        code: 'custom',
        path: ['runs', 'defaultPool'],
        message: `pool "${config.runs.defaultPool}" does not exist or is not a run pool; allowed: ${allowed}`,
      });
    }
    const connections = config.connections.map((c) => c.name);
    const definedConnections = connections.join(', ') || 'none';
    config.teams.forEach((t, i) => {
      // A team's pools and connections are each a subset of the platform's.
      const outside = (key: 'pools' | 'connections', known: string[], message: (name: string) => string) =>
        t[key]?.forEach((name, j) => {
          if (!known.includes(name))
            ctx.addIssue({ code: 'custom', path: ['teams', i, key, j], message: message(name) });
        });
      outside('pools', runPools, (p) => `pool "${p}" does not exist or is not a run pool; allowed: ${allowed}`);
      outside('connections', connections, (c) => `connection "${c}" is not defined; defined: ${definedConnections}`);
      if (config.teams.findIndex((o) => o.name === t.name) !== i) {
        ctx.addIssue({ code: 'custom', path: ['teams', i, 'name'], message: `team "${t.name}" is defined twice` });
      }
    });
    checkConnections(config.connections, ctx);
    if (config.production) {
      for (const [key, image] of Object.entries(config.images)) {
        if (!imagePinning(image).digest) {
          ctx.addIssue({
            code: 'custom',
            path: ['images', key],
            message: `image "${image}" must be pinned by @sha256 digest in a production environment`,
          });
        }
      }
    }
    const db = config.database;
    if (db.kind === 'cloudnative-pg') {
      if (config.name !== 'local' && db.instances < 3) {
        ctx.addIssue({
          code: 'custom',
          path: ['database', 'instances'],
          message: `HA Postgres needs at least 3 instances outside "local" (got ${db.instances})`,
        });
      }
      if (db.synchronousReplicas >= db.instances) {
        ctx.addIssue({
          code: 'custom',
          path: ['database', 'synchronousReplicas'],
          message: `must be less than instances (${db.instances})`,
        });
      }
      if (config.name !== 'local' && db.synchronousReplicas < 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['database', 'synchronousReplicas'],
          message: 'synchronous replication needs at least 1 synchronous standby outside "local"',
        });
      }
      if (db.backup.enabled && config.artifacts.kind === 'volume') {
        ctx.addIssue({
          code: 'custom',
          path: ['database', 'backup', 'enabled'],
          message: 'backups go to the artifact store, which must be "s3" or "gcs"; a "volume" store cannot hold them',
        });
      }
    }
  });

/** Connection names and mount paths are unique, and no mount lands on another's or the artifact store's. */
function checkConnections(connections: Connection[], ctx: z.RefinementCtx): void {
  const mounts: { path: string; owner: string }[] = [{ path: ARTIFACTS_MOUNT_PATH, owner: 'the artifact store' }];
  const overlaps = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
  connections.forEach((c, i) => {
    if (connections.findIndex((o) => o.name === c.name) !== i) {
      ctx.addIssue({
        code: 'custom',
        path: ['connections', i, 'name'],
        message: `connection "${c.name}" is defined twice`,
      });
    }
    for (const key of ['secret', 'configMap', 'volumeClaim'] as const) {
      const path = c[key]?.mountPath;
      if (path === undefined) continue;
      const clash = mounts.find((m) => overlaps(m.path, path));
      if (clash) {
        ctx.addIssue({
          code: 'custom',
          path: ['connections', i, key, 'mountPath'],
          message: `"${path}" overlaps ${clash.path}, where ${clash.owner} is mounted`,
        });
      }
      mounts.push({ path, owner: `connection "${c.name}"` });
    }
  });
}

/** What an environment file writes: defaults may be left out. */
export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
/** A validated environment with every default filled in. */
export type PlatformConfig = z.output<typeof platformConfigSchema>;
