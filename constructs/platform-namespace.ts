import { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import type { PlatformConfig } from '../model/config/schema.js';
import { componentLabels, podSecurityLabels } from '../model/labels.js';

export interface PlatformNamespaceProps {
  readonly config: PlatformConfig;
}

/** The namespace of the platform's own services, enforcing the restricted Pod Security Standard. */
export class PlatformNamespace extends Construct {
  constructor(scope: Construct, id: string, props: PlatformNamespaceProps) {
    super(scope, id);
    new k8s.KubeNamespace(this, 'namespace', {
      metadata: {
        name: props.config.namespace,
        labels: { ...componentLabels(props.config.name, 'platform'), ...podSecurityLabels('restricted') },
      },
    });
  }
}
