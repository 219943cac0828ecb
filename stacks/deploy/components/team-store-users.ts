import { createHash } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import type { PlatformConfig } from '../../../model/config/schema.js';
import { renderStoreUsers, storeSecrets, type StoreAdminKeys } from '../../../constructs/store-users.js';
import { STORE_KEYS_REVISION, withOutputs } from './cluster-platform.js';
import { registerObject, type KubernetesObject } from './kubernetes-objects.js';
import { PlatformSecret } from './platform-secret.js';

/**
 * A one-way digest of every key the store's users are given: the Job runs again when one changes,
 * and the keys stay out of its spec.
 */
export function storeKeysRevision(config: PlatformConfig, admin: pulumi.Output<StoreAdminKeys>): pulumi.Output<string> {
  return pulumi.unsecret(
    admin.apply((keys) =>
      createHash('sha256')
        .update(JSON.stringify(storeSecrets(config).map((s) => s.stringData(keys))))
        .digest('hex')
        .slice(0, 16),
    ),
  );
}

export interface TeamStoreUsersArgs {
  readonly config: PlatformConfig;
  /** A Pulumi secret: MinIO's admin keys, or the platform's own store's root keys. */
  readonly admin: pulumi.Output<StoreAdminKeys>;
  /** The platform's namespaces, which must exist first. */
  readonly dependsOn: pulumi.Resource[];
  /**
   * The platform's own store (`artifacts.server`): the chart's store-users Job, which makes the
   * users whose keys the Secrets hold. Without it, the store is outside the platform and this
   * component runs the Job itself.
   */
  readonly chartJob?: pulumi.Resource;
}

/**
 * Each team's credential in an S3-compatible store, and whatever else storeSecrets lists: the
 * Job's Secret first, then, once the Job has made the users, each team's Secret
 * `artifact-store-<team>` (and for the platform's own store, the platform's credential). For a
 * store outside the platform (MinIO) the Job of StoreUsers is this component's, rerun when a key
 * changes; the platform's own store has it in the chart, and this component writes the Secrets only.
 */
export class TeamStoreUsers extends pulumi.ComponentResource {
  readonly objectCount: number;

  constructor(name: string, args: TeamStoreUsersArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:kubernetes:TeamStoreUsers', name, {}, opts);
    const { config } = args;
    const parent = { parent: this };
    const secret = (spec: ReturnType<typeof storeSecrets>[number], dependsOn: pulumi.Resource[]) =>
      new PlatformSecret(
        spec.name,
        {
          name: spec.name,
          namespace: spec.namespace,
          config,
          dependsOn,
          stringData: args.admin.apply(spec.stringData),
        },
        parent,
      );
    const specs = storeSecrets(config);
    const before = specs.filter((s) => !s.afterUsers).map((s) => secret(s, args.dependsOn));

    let jobs: pulumi.Resource[];
    let objectCount = 0;
    if (args.chartJob) {
      jobs = [args.chartJob];
    } else {
      const revision = storeKeysRevision(config, args.admin);
      const objects = renderStoreUsers(config, STORE_KEYS_REVISION).map(
        (o) => withOutputs(o, { [STORE_KEYS_REVISION]: revision }) as KubernetesObject,
      );
      const plan = objects
        .filter((o) => o.kind !== 'Job')
        .map((o) => registerObject(o, { ...parent, dependsOn: args.dependsOn }));
      jobs = objects
        .filter((o) => o.kind === 'Job')
        .map((o) =>
          registerObject(o, { ...parent, dependsOn: [...args.dependsOn, ...plan, ...before.map((b) => b.secret)] }),
        );
      objectCount = objects.length;
    }

    // Only once the store knows a user does anything get its keys.
    const after = specs.filter((s) => s.afterUsers).map((s) => secret(s, [...args.dependsOn, ...jobs]));
    this.objectCount = objectCount + before.length + after.length;
    this.registerOutputs({ objectCount: this.objectCount });
  }
}
