import type * as pulumi from '@pulumi/pulumi';

/** What every stack exports: `pulumi stack output`. */
export interface StackOutputs {
  readonly environment: string;
  readonly platformNamespace: string;
  /** Kubernetes objects the stack manages: the chart, the operator CRDs and the credentials. */
  readonly objectCount: number;
  /** aws-* stacks: what was provisioned (secret where it grants access). */
  readonly cloud?: pulumi.Output<object>;
}
