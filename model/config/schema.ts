import { z } from 'zod';
import { ARTIFACTS_MOUNT_PATH, artifactStoreDestination } from '../artifacts.js';
import { imagePinning } from '../images.js';
import { artifactStore, type ArtifactStore } from './artifact-store.js';
import { connection, type Connection } from './connections.js';
import { database } from './database.js';
import { ingress } from './ingress.js';
import { nodePool, type NodePool } from './node-pools.js';
import { dnsLabel, pinnedImage } from './primitives.js';
import { resources, type Resources } from './resources.js';
import { FIRST_NON_ROOT_ID } from '../security-floor.js';
import { subject, team, type Team } from './teams.js';
import { runs } from './runs.js';
import { objectStoreEndpoint, RUN_SERVICE_ACCOUNT } from '../names.js';

/**
 * The PlatformConfig schema: the one typed description of an environment.
 * Defaults live here and nowhere else; constructs, the controller's ConfigMap and the Pulumi
 * stacks all read the parsed result.
 */

/** The uid and gid of every platform pod and run, where an environment gives none. */
export const PLATFORM_ID = 10001;

const nonRootId = (noun: 'uid' | 'gid') =>
  z
    .number()
    .int()
    .min(FIRST_NON_ROOT_ID, { error: `must be a non-root ${noun} (${FIRST_NON_ROOT_ID} or more)` })
    .default(PLATFORM_ID);

const security = z
  .strictObject({
    runAsUser: nonRootId('uid'),
    runAsGroup: nonRootId('gid'),
    fsGroup: nonRootId('gid'),
    /**
     * Whether runs' root filesystems are read-only [true]: a run writes its scratch to /tmp and its
     * outputs to the artifact store. False for platforms whose teams' images write elsewhere.
     */
    readOnlyRunRoot: z.boolean().default(true),
  })
  .default({ runAsUser: PLATFORM_ID, runAsGroup: PLATFORM_ID, fsGroup: PLATFORM_ID, readOnlyRunRoot: true });

const coreService = (replicas: number, res: Resources) =>
  z
    .strictObject({
      replicas: z.number().int().min(1, { error: 'must be at least 1' }).default(replicas),
      resources: resources.default(res),
    })
    .default({ replicas, resources: res });

const TRACKING_RESOURCES: Resources = {
  requests: { cpu: '250m', memory: '512Mi' },
  limits: { cpu: '1', memory: '1Gi' },
};

export const platformConfigSchema = z
  .strictObject({
    /** The environment name, used in errors and in the `plinth.dev/environment` label. */
    name: dnsLabel,
    /** Production environments are held to stricter rules: images pinned by digest, multi-AZ databases. */
    production: z.boolean().default(false),
    /** Namespace of the platform's own services. */
    namespace: dnsLabel.default('plinth'),
    /**
     * The platform's images, each `<registry>/<name>:<hash>` as `npm run images` builds them
     * (stacks/environments/images.ts), or pinned by digest.
     */
    images: z.strictObject({
      controller: pinnedImage,
      trackingServer: pinnedImage,
      /** Postgres operand image for CloudNativePG. */
      postgres: pinnedImage,
      /** The platform's Jobs: git for sources, and the artifact store's admin clients. */
      init: pinnedImage,
      /** The S3 server the platform deploys when `artifacts.server` asks for one. */
      objectStore: pinnedImage,
    }),
    nodePools: z.record(dnsLabel, nodePool),
    database,
    artifacts: artifactStore,
    /** What runs may connect to beyond the artifact store, which every run gets. */
    connections: z.array(connection).default([]),
    ingress,
    security,
    teams: z.array(team).default([]),
    /**
     * Who runs the platform: bound to the ClusterRole plinth-platform-admin, which reads every
     * team's runs, pods, events and logs, and changes nothing.
     */
    platformAdmins: z.array(subject).default([]),
    runs,
    controller: coreService(2, {
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    }),
    tracking: z
      .strictObject({
        replicas: z.number().int().min(1, { error: 'must be at least 1' }).default(2),
        resources: resources.default(TRACKING_RESOURCES),
        /**
         * How long the controller waits for the tracking server before it starts a run's workload
         * without an MLflow run: tracking never blocks a run. The MLflow run is made and linked
         * once the server answers.
         */
        waitSeconds: z
          .number()
          .int()
          .min(0, { error: 'must be 0 (never wait) or more' })
          .max(600, { error: 'must be at most 600: a run waits this long when the tracking server is down' })
          .default(60),
      })
      .default({ replicas: 2, resources: TRACKING_RESOURCES, waitSeconds: 60 }),
    monitoring: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** A run pending longer than this raises an alert. */
        pendingRunAlertMinutes: z.number().int().min(1).default(30),
        /** Where Prometheus runs: the platform namespace admits its scrapes of the services' metrics. */
        prometheusNamespace: dnsLabel.default('monitoring'),
      })
      .default({ enabled: true, pendingRunAlertMinutes: 30, prometheusNamespace: 'monitoring' }),
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
    const cpuPools = byRole('cpu');
    if (!cpuPools.includes(config.runs.defaultPool)) {
      ctx.addIssue({
        code: 'custom',
        path: ['runs', 'defaultPool'],
        message: `pool "${config.runs.defaultPool}" does not exist or is not a CPU pool (a GPU pool takes only runs that ask for GPUs); allowed: ${cpuPools.map((p) => `"${p}"`).join(', ')}`,
      });
    }
    const priorityClasses = config.runs.priorityClasses.map((c) => c.name);
    priorityClasses.forEach((name, i) => {
      if (priorityClasses.indexOf(name) !== i) {
        ctx.addIssue({
          code: 'custom',
          path: ['runs', 'priorityClasses', i, 'name'],
          message: `priority class "${name}" is defined twice`,
        });
      }
    });
    const connections = config.connections.map((c) => c.name);
    const definedConnections = connections.join(', ') || 'none';
    config.teams.forEach((t, i) => {
      // A team's pools and connections are each a subset of the platform's.
      const outside = (
        key: 'pools' | 'connections' | 'priorityClasses',
        known: string[],
        message: (name: string) => string,
      ) =>
        t[key]?.forEach((name, j) => {
          if (!known.includes(name))
            ctx.addIssue({ code: 'custom', path: ['teams', i, key, j], message: message(name) });
        });
      outside('pools', runPools, (p) => `pool "${p}" does not exist or is not a run pool; allowed: ${allowed}`);
      outside('connections', connections, (c) => `connection "${c}" is not defined; defined: ${definedConnections}`);
      outside(
        'priorityClasses',
        priorityClasses,
        (c) =>
          `priority class "${c}" is not one of runs.priorityClasses; defined: ${priorityClasses.join(', ') || 'none'}`,
      );
      t.serviceAccounts.forEach((account, j) => {
        if (t.serviceAccounts.findIndex((a) => a.name === account.name) !== j) {
          ctx.addIssue({
            code: 'custom',
            path: ['teams', i, 'serviceAccounts', j, 'name'],
            message: `service account "${account.name}" is listed twice`,
          });
        } else if (account.name === RUN_SERVICE_ACCOUNT) {
          ctx.addIssue({
            code: 'custom',
            path: ['teams', i, 'serviceAccounts', j, 'name'],
            message: `"${RUN_SERVICE_ACCOUNT}" is the platform's run account, which every run may use already`,
          });
        }
      });
      // A team's default pools are among the pools it may use; the GPU one among its GPU pools.
      const teamPools = (t.pools ?? runPools).filter((p) => runPools.includes(p));
      const teamGpuPools = teamPools.filter((p) => byRole('gpu').includes(p));
      const teamCpuPools = teamPools.filter((p) => cpuPools.includes(p));
      const among = (key: 'defaultPool' | 'defaultGpuPool', allowedPools: string[], what: string) => {
        const pool = t[key];
        if (pool === undefined || allowedPools.includes(pool)) return;
        const listed = allowedPools.map((p) => `"${p}"`).join(', ') || '(none)';
        ctx.addIssue({
          code: 'custom',
          path: ['teams', i, key],
          message: `pool "${pool}" is not ${what} team "${t.name}" may use; allowed: ${listed}`,
        });
      };
      among('defaultPool', teamCpuPools, 'a CPU pool');
      among('defaultGpuPool', teamGpuPools, 'a GPU pool');
      if (config.teams.findIndex((o) => o.name === t.name) !== i) {
        ctx.addIssue({ code: 'custom', path: ['teams', i, 'name'], message: `team "${t.name}" is defined twice` });
      }
    });
    checkConnections(config.connections, ctx);
    checkTeamIdentities(config.artifacts, config.teams, ctx);
    checkObjectStoreServer(config.artifacts, config.namespace, ctx);
    const store = artifactStoreDestination(config.artifacts);
    if (store?.kind === 'unnamed') {
      ctx.addIssue({ code: 'custom', path: ['artifacts', 'egressCidrs'], message: store.problem });
    }
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

/**
 * A workload identity names one identity per team, and only for teams: each team's runs get their
 * own, which reaches only the team's prefixes, never the tracking server's.
 */
function checkTeamIdentities(store: ArtifactStore, teams: readonly Team[], ctx: z.RefinementCtx): void {
  if (store.kind === 'volume' || !('workloadIdentity' in store.credentials)) return;
  const identity = store.credentials.workloadIdentity;
  const [field, byTeam, what] =
    'roleArn' in identity
      ? (['teamRoleArns', identity.teamRoleArns, 'an IAM role ARN'] as const)
      : (['teamServiceAccounts', identity.teamServiceAccounts, 'a Google service account'] as const);
  const path = ['artifacts', 'credentials', 'workloadIdentity', field];
  const names = teams.map((t) => t.name);
  for (const team of names) {
    if (byTeam[team] === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, team],
        message: `team "${team}" needs ${what} of its own, which only its runs' accounts may use`,
      });
    }
  }
  for (const team of Object.keys(byTeam)) {
    if (!names.includes(team)) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, team],
        message: `"${team}" is not a team; defined: ${names.join(', ') || 'none'}`,
      });
    }
  }
}

/**
 * A store the platform deploys is reached at its own Service, by keys the platform derives: the
 * config may name no other address, no CIDRs and no workload identity for it.
 */
function checkObjectStoreServer(store: ArtifactStore, namespace: string, ctx: z.RefinementCtx): void {
  if (store.kind !== 's3' || !store.server) return;
  const endpoint = objectStoreEndpoint(namespace);
  if (store.endpoint !== endpoint) {
    ctx.addIssue({
      code: 'custom',
      path: ['artifacts', 'endpoint'],
      message: `must be "${endpoint}" with artifacts.server: the platform serves its store at that Service (got ${store.endpoint === undefined ? 'none' : `"${store.endpoint}"`})`,
    });
  }
  if (store.egressCidrs) {
    ctx.addIssue({
      code: 'custom',
      path: ['artifacts', 'egressCidrs'],
      message:
        "must be left out with artifacts.server: the store's pods are the platform's, which the NetworkPolicies select by namespace",
    });
  }
  if (!('secret' in store.credentials)) {
    ctx.addIssue({
      code: 'custom',
      path: ['artifacts', 'credentials'],
      message:
        "must be { secret: { name } } with artifacts.server: the platform's store knows its users by keys, not by a workload identity",
    });
  }
}

/** What an environment file writes: defaults may be left out. */
export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
/** A validated environment with every default filled in. */
export type PlatformConfig = z.output<typeof platformConfigSchema>;
