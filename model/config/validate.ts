import type { z } from 'zod';
import { platformConfigSchema, type PlatformConfig } from './schema.js';

/** One problem in an environment's config: where it is and what is allowed there. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** Raised before anything is synthesized or deployed; lists every problem at once. */
export class PlatformConfigError extends Error {
  constructor(
    readonly environment: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(
      `invalid platform config for environment "${environment}":\n` +
        issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n'),
    );
    this.name = 'PlatformConfigError';
  }
}

/** Renders a zod path as users write it in their environment file: `teams[1].quota.gpu`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((segment, i) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const name = String(segment);
      const plain = /^[A-Za-z_$][\w$]*$/.test(name);
      if (!plain) return `[${JSON.stringify(name)}]`;
      return i === 0 ? name : `.${name}`;
    })
    .join('');
}

/** A record key's own checks come nested under zod's generic "Invalid key"; they say what a key may be. */
function messageOf(issue: z.ZodError['issues'][number]): string {
  if (issue.code === 'invalid_key' && issue.issues.length > 0) return issue.issues.map((i) => i.message).join('; ');
  return issue.message;
}

function toIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: messageOf(issue) }));
}

/** Validates an environment's config and fills in defaults, or throws a PlatformConfigError. */
export function validatePlatformConfig(environment: string, input: unknown): PlatformConfig {
  const result = platformConfigSchema.safeParse(input);
  if (!result.success) throw new PlatformConfigError(environment, toIssues(result.error));
  if (result.data.name !== environment) {
    throw new PlatformConfigError(environment, [
      { path: 'name', message: `must match the environment it is registered as ("${environment}")` },
    ]);
  }
  return result.data;
}
