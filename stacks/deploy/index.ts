/**
 * The Pulumi program: `npm run pulumi -- up -s <stack>` (Pulumi.yaml at the repository root). It reads the
 * stack's config, provisions what lives outside the cluster (aws-* stacks), then deploys the same
 * platform chart that `cdk8s synth` writes.
 */
import * as pulumi from '@pulumi/pulumi';
import { PlatformConfigError } from '../../model/config/validate.js';
import { deployAws } from './aws/deploy-aws.js';
import { deployToCluster } from './deploy-to-cluster.js';
import { nodeVersionProblem } from './node-version.js';
import { readStackConfig, StackConfigError, type StackConfig } from './stack-config.js';
import type { StackOutputs } from './stack-outputs.js';

function deploy(): StackOutputs {
  const nodeProblem = nodeVersionProblem(process.version);
  if (nodeProblem) throw new pulumi.RunError(nodeProblem);
  try {
    const config: StackConfig = readStackConfig(pulumi.getStack(), pulumi.runtime.allConfig());
    return config.environment === 'aws' ? deployAws(config) : deployToCluster(config);
  } catch (error) {
    // Bad config is the user's to fix: the message names each key, and a stack trace adds nothing.
    if (error instanceof StackConfigError || error instanceof PlatformConfigError)
      throw new pulumi.RunError(error.message);
    throw error;
  }
}

// The stack's outputs (`pulumi stack output`); `cloud` only where something was provisioned.
const { cloud, ...outputs } = deploy();
export default cloud ? { ...outputs, cloud } : outputs;
