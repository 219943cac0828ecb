/**
 * The Pulumi policy pack: `pulumi preview --policy-pack policies`. The same rules as
 * `plinth check` and the cdk8s plugin, over the Kubernetes objects and the cloud resources a
 * stack creates. Stacks whose name ends in "prod" are held to production rules.
 */
import { PolicyPack } from '@pulumi/policy';
import * as pulumi from '@pulumi/pulumi';
import { environmentOfStack, isProductionStack } from '../stacks/deploy/stack-config.js';
import { stackPolicies } from './pulumi/policies.js';

const stack = pulumi.getStack();

new PolicyPack('plinth', {
  policies: stackPolicies({ environment: environmentOfStack(stack) ?? stack, production: isProductionStack(stack) }),
});
