import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { PlatformConfig } from '../../../model/config/schema.js';
import { componentLabels } from '../../../model/labels.js';
import { teamNamespaceName } from '../../../model/names.js';

/** A Secret the chart refers to by name but never carries: its values come from Pulumi secrets. */
export interface PlatformSecretSpec {
  readonly name: string;
  /** The platform namespace only, or every team namespace too (runs read it from their own). */
  readonly scope: 'platform' | 'platform-and-teams';
  readonly stringData: pulumi.Output<Record<string, string>>;
}

export interface PlatformSecretArgs extends PlatformSecretSpec {
  readonly config: PlatformConfig;
  /** The namespaces must exist first. */
  readonly dependsOn?: pulumi.Resource[];
}

/**
 * Writes one of the platform's Secrets from Pulumi secret config or cloud outputs, so that no key
 * or password appears in a manifest, in the state file unencrypted, or in a log.
 */
export class PlatformSecret extends pulumi.ComponentResource {
  readonly secrets: k8s.core.v1.Secret[];

  constructor(name: string, args: PlatformSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:kubernetes:PlatformSecret', name, {}, opts);
    const { config } = args;
    const namespaces = [
      config.namespace,
      ...(args.scope === 'platform' ? [] : config.teams.map((t) => teamNamespaceName(config, t.name))),
    ];
    this.secrets = namespaces.map(
      (namespace) =>
        new k8s.core.v1.Secret(
          `${namespace}/${args.name}`,
          {
            metadata: { name: args.name, namespace, labels: componentLabels(config.name, args.name) },
            type: 'Opaque',
            stringData: pulumi.secret(args.stringData),
          },
          { parent: this, dependsOn: args.dependsOn },
        ),
    );
    this.registerOutputs({});
  }
}
