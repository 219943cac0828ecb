import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { PlatformConfig } from '../../../model/config/schema.js';
import { componentLabels } from '../../../model/labels.js';

/** A Secret the chart refers to by name but never carries: its values come from Pulumi secrets. */
export interface PlatformSecretSpec {
  readonly name: string;
  /** The platform namespace unless given: a team's own Secret goes into the team's namespace. */
  readonly namespace?: string;
  readonly stringData: pulumi.Output<Record<string, string>>;
}

export interface PlatformSecretArgs extends PlatformSecretSpec {
  readonly config: PlatformConfig;
  /** The namespace must exist first, and whatever the Secret's values must be known to. */
  readonly dependsOn?: pulumi.Resource[];
}

/**
 * Writes one of the platform's Secrets from Pulumi secret config or cloud outputs, so that no key
 * or password appears in a manifest, in the state file unencrypted, or in a log.
 */
export class PlatformSecret extends pulumi.ComponentResource {
  readonly secret: k8s.core.v1.Secret;

  constructor(name: string, args: PlatformSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super('plinth:kubernetes:PlatformSecret', name, {}, opts);
    const { config } = args;
    const namespace = args.namespace ?? config.namespace;
    this.secret = new k8s.core.v1.Secret(
      `${namespace}/${args.name}`,
      {
        metadata: { name: args.name, namespace, labels: componentLabels(config.name, args.name) },
        type: 'Opaque',
        stringData: pulumi.secret(args.stringData),
      },
      { parent: this, dependsOn: args.dependsOn },
    );
    this.registerOutputs({});
  }
}
