import { createHash } from 'node:crypto';
import { teamSecretKey } from '../../../model/store-access.js';
import * as pulumi from '@pulumi/pulumi';
import type { PlatformConfig } from '../../../model/config/schema.js';
import { STORE_USERS_COMPONENT, teamArtifactStoreSecretName, teamNamespaceName } from '../../../model/names.js';
import { renderStoreUsers, STORE_USERS_SECRET_KEYS, storeUserName } from '../../../constructs/store-users.js';
import { withOutputs } from './cluster-platform.js';
import { registerObject, type KubernetesObject } from './kubernetes-objects.js';
import { PlatformSecret } from './platform-secret.js';

/** The admin's keys of an S3-compatible store, from `plinth:artifactStoreAdmin`. */
export interface StoreAdminKeys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Stands in for the keys' revision in the Job until it is known. */
const KEYS_REVISION = 'pulumi-output-keysRevision';

export interface TeamStoreUsersArgs {
  readonly config: PlatformConfig;
  /** A Pulumi secret. */
  readonly admin: pulumi.Output<StoreAdminKeys>;
  /** The platform's namespaces, which must exist first. */
  readonly dependsOn: pulumi.Resource[];
}

/**
 * Each team's credential in an S3-compatible store (MinIO): the Job of StoreUsers makes a user
 * per team with a policy on the team's prefixes through the store's admin API, then each team's
 * Secret `artifact-store-<team>` is written with that user's keys, once the store knows them.
 */
export class TeamStoreUsers extends pulumi.ComponentResource {
  readonly objectCount: number;

  constructor(name: string, args: TeamStoreUsersArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:kubernetes:TeamStoreUsers', name, {}, opts);
    const { config } = args;
    const store = config.artifacts;
    if (store.kind !== 's3' || !('secret' in store.credentials)) throw new Error('unreachable: checked by the caller');
    const { accessKeyIdKey, secretAccessKeyKey } = store.credentials.secret;
    const parent = { parent: this };

    const teamKeys = args.admin.apply((admin) =>
      Object.fromEntries(config.teams.map((t) => [t.name, teamSecretKey(admin.secretAccessKey, config.name, t.name)])),
    );
    const jobSecret = new PlatformSecret(
      STORE_USERS_COMPONENT,
      {
        name: STORE_USERS_COMPONENT,
        config,
        dependsOn: args.dependsOn,
        stringData: pulumi.all([args.admin, teamKeys]).apply(([admin, teams]): Record<string, string> => ({
          [STORE_USERS_SECRET_KEYS.adminAccessKeyId]: admin.accessKeyId,
          [STORE_USERS_SECRET_KEYS.adminSecretAccessKey]: admin.secretAccessKey,
          ...Object.fromEntries(Object.entries(teams).map(([team, key]) => [STORE_USERS_SECRET_KEYS.team(team), key])),
        })),
      },
      parent,
    );
    // A one-way digest: the Job runs again when a key changes, and the keys stay out of its spec.
    const revision = pulumi.unsecret(
      pulumi
        .all([args.admin, teamKeys])
        .apply((keys) => createHash('sha256').update(JSON.stringify(keys)).digest('hex').slice(0, 16)),
    );

    const objects = renderStoreUsers(config, KEYS_REVISION).map(
      (o) => withOutputs(o, { [KEYS_REVISION]: revision }) as KubernetesObject,
    );
    const plan = objects
      .filter((o) => o.kind !== 'Job')
      .map((o) => registerObject(o, { ...parent, dependsOn: args.dependsOn }));
    const jobs = objects
      .filter((o) => o.kind === 'Job')
      .map((o) => registerObject(o, { ...parent, dependsOn: [...args.dependsOn, ...plan, jobSecret.secret] }));

    // Only once the store knows a team's user do its runs get the keys.
    const teamSecrets = config.teams.map(
      (t) =>
        new PlatformSecret(
          teamArtifactStoreSecretName(t.name),
          {
            name: teamArtifactStoreSecretName(t.name),
            config,
            namespace: teamNamespaceName(config, t.name),
            dependsOn: [...args.dependsOn, ...jobs],
            stringData: teamKeys.apply((keys): Record<string, string> => ({
              [accessKeyIdKey]: storeUserName(config, t.name),
              [secretAccessKeyKey]: keys[t.name] ?? '',
            })),
          },
          parent,
        ),
    );
    this.objectCount = objects.length + 1 + teamSecrets.length;
    this.registerOutputs({ objectCount: this.objectCount });
  }
}
