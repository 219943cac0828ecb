import { describe, expect, it } from 'vitest';
import { validatePlatformConfig } from '../../model/config/validate.js';
import { aws } from '../../stacks/environments/aws.js';
import { environments } from '../../stacks/environments/index.js';
import {
  applyStackOverrides,
  environmentOfStack,
  readStackConfig,
  StackConfigError,
  type StackConfig,
} from '../../stacks/deploy/stack-config.js';
import { DIGEST_PINNED_IMAGES, stackFileConfig as stackFile } from '../support/stack-files.js';

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

  it.each(['local', 'onprem', 'aws-dev'])('the committed %s stack validates into a platform config', (stack) => {
    const config = readStackConfig(stack, withSecrets(stack));
    const platform = platformOf(config);
    expect(platform.name).toBe(stack);
    expect(platform.production).toBe(false);
  });

  it('aws-prod is production, and refuses images not pinned by digest until they are', () => {
    const config = readStackConfig('aws-prod', withSecrets('aws-prod'));
    expect(config.production).toBe(true);
    expect(() => platformOf(config)).toThrow(/images\.controller: .* must be pinned by @sha256 digest/);
    const images = DIGEST_PINNED_IMAGES;
    const pinned = readStackConfig('aws-prod', { ...withSecrets('aws-prod'), 'plinth:images': JSON.stringify(images) });
    expect(platformOf(pinned).images).toEqual(images);
  });

  it('applies quota, pool and domain overrides to the environment', () => {
    const config = readStackConfig('aws-prod', withSecrets('aws-prod'));
    const platform = validatePlatformConfig(
      'aws-prod',
      applyStackOverrides(aws(), {
        ...config,
        images: DIGEST_PINNED_IMAGES,
      }),
    );
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
    expect(readStackConfig('staging', { 'plinth:environment': 'onprem', 'plinth:kubeContext': 'x' }).environment).toBe(
      'onprem',
    );
  });
});
