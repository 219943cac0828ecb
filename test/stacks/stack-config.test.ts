import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOCAL_REGISTRY } from '../../images/reference.js';
import { imagePinning } from '../../model/images.js';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { aws } from '../../stacks/environments/aws.js';
import { EXAMPLE_REGISTRY, PLATFORM_IMAGE_NAMES, platformImages } from '../../stacks/environments/images.js';
import { environments } from '../../stacks/environments/index.js';
import {
  applyStackOverrides,
  environmentOfStack,
  readStackConfig,
  StackConfigError,
  type StackConfig,
} from '../../stacks/deploy/stack-config.js';
import { principalGroups } from '../../stacks/deploy/aws/team-access.js';
import { stackFileConfig as stackFile, stackFileImages } from '../support/stack-files.js';

const STACKS = ['local', 'onprem', 'aws-dev', 'aws-prod'];

/** A stack file's config plus the secrets its stack requires, as `pulumi config set --secret` adds them. */
const withSecrets = (stack: string): Record<string, string> => ({
  ...stackFile(stack),
  ...(stack.startsWith('aws') ? { 'plinth:databasePassword': 'a-test-password-long-enough' } : {}),
});

function platformOf(config: StackConfig) {
  const base = config.environment === 'aws' ? aws() : environments[config.environment]!;
  return validatePlatformConfig(config.stack, applyStackOverrides(base, config));
}

function errorOf(run: () => unknown): StackConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof StackConfigError) return error;
    throw error;
  }
  throw new Error('expected a StackConfigError');
}

describe('stack config', () => {
  it('names the environment of each stack', () => {
    expect(STACKS.map(environmentOfStack)).toEqual(['local', 'onprem', 'aws', 'aws']);
    expect(environmentOfStack('staging')).toBeUndefined();
  });

  it.each([
    ['local', LOCAL_REGISTRY],
    ['onprem', EXAMPLE_REGISTRY],
    ['aws-dev', EXAMPLE_REGISTRY],
  ])('the committed %s stack validates into a platform config with every image from %s', (stack, registry) => {
    const config = readStackConfig(stack, withSecrets(stack));
    const platform = platformOf(config);
    expect(platform.name).toBe(stack);
    expect(platform.production).toBe(false);
    expect(config.images.registry).toBe(registry);
    expect(platform.images).toEqual(platformImages(registry));
  });

  it('aws-prod is production and pins every platform image by digest in its registry', () => {
    const config = readStackConfig('aws-prod', withSecrets('aws-prod'));
    expect(config.production).toBe(true);
    const { registry, ...pins } = stackFileImages('aws-prod');
    expect(registry).toBe(EXAMPLE_REGISTRY);
    expect(Object.keys(pins).sort()).toEqual(Object.keys(PLATFORM_IMAGE_NAMES).sort());
    const images = platformOf(config).images;
    expect(images).toEqual(pins);
    for (const [key, name] of Object.entries(PLATFORM_IMAGE_NAMES)) {
      const image = images[key as keyof typeof images];
      expect(image.startsWith(`${EXAMPLE_REGISTRY}/${name}:`), image).toBe(true);
      expect(imagePinning(image).digest, image).toBe(true);
    }
  });

  it('refuses a production stack an image not pinned by digest, saying what prints the digests', () => {
    const tagOnly: Record<string, string> = {
      ...stackFileImages('aws-prod'),
      trackingServer: platformImages(EXAMPLE_REGISTRY).trackingServer,
    };
    delete tagOnly['controller'];
    const error = errorOf(() =>
      readStackConfig('aws-prod', { ...withSecrets('aws-prod'), 'plinth:images': JSON.stringify(tagOnly) }),
    );
    expect(error.issues.map((i) => i.key)).toEqual(['plinth:images.controller', 'plinth:images.trackingServer']);
    const list = `npm run -s images -- list --digests --registry ${EXAMPLE_REGISTRY}`;
    expect(error.issues[0]!.message).toBe(
      `must be set, pinned by @sha256 digest, in a production stack: build and push the images (README, "Pushing to your registry"), then set it to the "controller" line of ${list}`,
    );
    expect(error.issues[1]!.message).toContain(
      `image "${tagOnly.trackingServer}" must be pinned by @sha256 digest, in a production stack`,
    );
    expect(error.issues[1]!.message).toContain(`the "tracking" line of ${list}`);
  });

  it('needs a registry for onprem and aws stacks, and takes every image from the one set', () => {
    for (const stack of ['onprem', 'aws-dev']) {
      const noRegistry = withSecrets(stack);
      delete noRegistry['plinth:images'];
      const error = errorOf(() => readStackConfig(stack, noRegistry));
      expect(error.message).toMatch(new RegExp(`^invalid config for stack "${stack}":`));
      expect(error.issues.map((i) => i.key)).toEqual(['plinth:images.registry']);
      expect(error.issues[0]!.message).toMatch(/^must be set for the (onprem|aws) environment: the registry/);
      expect(error.issues[0]!.message).toContain('a registry host with an optional path, like');
      expect(error.issues[0]!.message).toContain('registry.example.com/plinth');
      expect(error.issues[0]!.message).toContain('build the images with npm run images, push them there');
      expect(error.issues[0]!.message).toContain('pulumi config set --path plinth:images.registry <registry>');
    }
    // The section the message sends the reader to.
    expect(readFileSync(new URL('../../README.md', import.meta.url), 'utf8')).toContain(
      '\n### Pushing to your registry\n',
    );
    const bad = errorOf(() =>
      readStackConfig('onprem', { ...stackFile('onprem'), 'plinth:images': '{"registry":"https://registry.corp/"}' }),
    );
    expect(bad.issues.map((i) => `${i.key}: ${i.message.slice(0, 45)}`)).toEqual([
      'plinth:images.registry: must be a registry host with an optional path',
    ]);
    const registry = 'registry.corp.example:5000/ml';
    const config = readStackConfig('onprem', { ...stackFile('onprem'), 'plinth:images': JSON.stringify({ registry }) });
    const images = platformOf(config).images;
    expect(images).toEqual(platformImages(registry));
    for (const [key, reference] of Object.entries(platformImages(EXAMPLE_REGISTRY))) {
      // The same image, by the same hash of its inputs, named in the stack's registry.
      expect(images[key as keyof typeof images]).toBe(reference.replace(EXAMPLE_REGISTRY, registry));
    }
  });

  it('pins one image within the stack registry, local stacks defaulting to the local one', () => {
    const digest = `@sha256:${'a'.repeat(64)}`;
    const pinned = `${LOCAL_REGISTRY}/postgres:15.13${digest}`;
    const local = readStackConfig('local', {
      ...stackFile('local'),
      'plinth:images': JSON.stringify({ postgres: pinned }),
    });
    expect(platformOf(local).images).toEqual({ ...platformImages(LOCAL_REGISTRY), postgres: pinned });
    const elsewhere = `ghcr.io/cloudnative-pg/postgresql:17.5${digest}`;
    const wrongName = `${LOCAL_REGISTRY}/tracking:1${digest}`;
    const error = errorOf(() =>
      readStackConfig('local', {
        ...stackFile('local'),
        'plinth:images': JSON.stringify({ postgres: elsewhere, controller: wrongName }),
      }),
    );
    expect(error.issues).toEqual([
      {
        key: 'plinth:images.controller',
        message: `image "${wrongName}" is not in the stack's registry; allowed: ${LOCAL_REGISTRY}/controller:<tag>@sha256:<digest>, the "controller" line of npm run -s images -- list --digests --registry ${LOCAL_REGISTRY}`,
      },
      {
        key: 'plinth:images.postgres',
        message: expect.stringContaining(
          `image "${elsewhere}" is not in the stack's registry; allowed: ${LOCAL_REGISTRY}/postgres:`,
        ),
      },
    ]);
  });

  it('applies quota, pool and domain overrides to the environment', () => {
    const config = readStackConfig('aws-prod', withSecrets('aws-prod'));
    const platform = validatePlatformConfig('aws-prod', applyStackOverrides(aws(), config));
    expect(platform.teams.find((t) => t.name === 'vision')?.quota).toMatchObject({
      gpu: 64,
      maxConcurrentRuns: 200,
      cpu: '256',
    });
    expect(platform.ingress.domain).toBe('ml.example.com');
    const dev = platformOf(readStackConfig('aws-dev', withSecrets('aws-dev')));
    expect(dev.nodePools['gpu']?.size).toEqual({ min: 0, max: 2 });
    expect(dev.nodePools['gpu']?.instanceTypes).toEqual(['g5.12xlarge']);
  });

  it('names each bad key as it is written in the stack file, all at once', () => {
    const error = errorOf(() =>
      readStackConfig('local', {
        ...stackFile('local'),
        'plinth:teamQuotas': JSON.stringify({ vision: { gpu: -1 } }),
        'plinth:domian': 'ml.example.com',
        'plinth:awaitIngress': 'maybe',
      }),
    );
    expect(error.message).toMatch(/^invalid config for stack "local":/);
    expect(error.issues.map((i) => i.key).sort()).toEqual([
      'plinth:awaitIngress',
      'plinth:domian',
      'plinth:teamQuotas.vision.gpu',
    ]);
    expect(error.message).toContain('plinth:teamQuotas.vision.gpu: must be 0 or more');
    expect(error.message).toContain('plinth:domian: unknown key');
  });

  it('refuses overrides of pools and teams the environment does not define', () => {
    const config = readStackConfig('local', {
      ...stackFile('local'),
      'plinth:teamQuotas': JSON.stringify({ robotics: { gpu: 4 } }),
      'plinth:nodePools': JSON.stringify({ tpu: { size: { min: 0, max: 1 } } }),
    });
    const error = errorOf(() => applyStackOverrides(environments['local']!, config));
    expect(error.message).toContain('plinth:teamQuotas.robotics: no such team; allowed: vision, nlp');
    expect(error.message).toContain('plinth:nodePools.tpu: no such pool; allowed: core, cpu, gpu');
  });

  it('needs a kube context for cluster stacks, a database password for aws ones, and an environment for any', () => {
    expect(errorOf(() => readStackConfig('onprem', {})).message).toContain('plinth:kubeContext: must be set');
    expect(errorOf(() => readStackConfig('aws-dev', stackFile('aws-dev'))).message).toContain(
      'plinth:databasePassword: must be set for an aws stack, as a secret',
    );
    expect(errorOf(() => readStackConfig('local', { ...stackFile('local'), 'plinth:aws': '{}' })).message).toContain(
      'plinth:aws: applies to aws stacks only',
    );
    const keys = JSON.stringify({ accessKeyId: 'AKIA', secretAccessKey: 'not-a-key' });
    const aws = stackFile('aws-dev');
    const keysOnAws = errorOf(() =>
      readStackConfig('aws-dev', {
        ...aws,
        'plinth:databasePassword': 'a-long-s3cret-password',
        'plinth:artifactCredentials': keys,
        'plinth:artifactStoreAdmin': keys,
      }),
    ).message;
    expect(keysOnAws).toContain('plinth:artifactCredentials: applies to local and onprem stacks only');
    expect(keysOnAws).toContain('plinth:artifactStoreAdmin: applies to local and onprem stacks only');
    expect(errorOf(() => readStackConfig('staging', {})).message).toContain(
      'plinth:environment: stack "staging" does not name an environment',
    );
    expect(
      readStackConfig('staging', {
        'plinth:environment': 'onprem',
        'plinth:kubeContext': 'x',
        'plinth:images': JSON.stringify({ registry: EXAMPLE_REGISTRY }),
      }).environment,
    ).toBe('onprem');
  });

  it('refuses team access that names no principal, an SSO role with its path, a group no team has, and an unpinned Kubernetes minor', () => {
    const awsStack = (aws: unknown) => ({
      ...withSecrets('aws-dev'),
      'plinth:aws': JSON.stringify({ ...JSON.parse(stackFile('aws-dev')['plinth:aws']!), ...(aws as object) }),
    });
    const error = errorOf(() =>
      readStackConfig(
        'aws-dev',
        awsStack({
          kubernetesVersion: '1.30',
          groupPrincipals: {
            vision: [
              'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_MLVision_0123456789abcdef',
              'vision-team',
            ],
            nlp: [],
          },
        }),
      ),
    );
    expect(error.message).toContain(
      'plinth:aws.kubernetesVersion: must be one of 1.33, 1.34, 1.35, the minors a cluster-autoscaler is pinned for',
    );
    expect(error.message).toContain(
      'plinth:aws.groupPrincipals.vision[0]: EKS matches an IAM Identity Center role by its ARN without the path: ' +
        'write "arn:aws:iam::123456789012:role/AWSReservedSSO_MLVision_0123456789abcdef"',
    );
    expect(error.message).toContain('plinth:aws.groupPrincipals.vision[1]: must be the ARN of an IAM role or user');
    expect(error.message).toContain('plinth:aws.groupPrincipals.nlp');

    // A group is checked against the teams' members once the platform config is known.
    const config = readStackConfig(
      'aws-dev',
      awsStack({ groupPrincipals: { visoin: ['arn:aws:iam::123456789012:role/ml-vision'] } }),
    );
    const unknown = errorOf(() => principalGroups(config.stack, platformOf(config), config.aws.groupPrincipals));
    expect(unknown.message).toContain(
      'plinth:aws.groupPrincipals.visoin: no team\'s members name the group "visoin"; allowed: vision',
    );
    // One entry per principal, with every group it is in.
    const shared = readStackConfig(
      'aws-dev',
      awsStack({
        groupPrincipals: {
          vision: ['arn:aws:iam::123456789012:role/ml-lead', 'arn:aws:iam::123456789012:role/ml-vision'],
        },
      }),
    );
    expect(principalGroups(shared.stack, platformOf(shared), shared.aws.groupPrincipals)).toEqual([
      { principalArn: 'arn:aws:iam::123456789012:role/ml-lead', groups: ['vision'] },
      { principalArn: 'arn:aws:iam::123456789012:role/ml-vision', groups: ['vision'] },
    ]);
  });
});
