import { validatePlatformConfig } from '../model/config/validate.js';
import type { PlatformConfig } from '../model/config/schema.js';
import { PLINTH_LABELS } from '../model/labels.js';
import { environments } from '../stacks/environments/index.js';
import type { PolicyResource } from './resource.js';
import type { CheckContext } from './rule.js';
import { corePoolName, gpuPools } from '../model/pools.js';
import { teamCredentialKind } from '../model/artifacts.js';

export interface ContextOptions {
  /** Environment for resources that carry no `plinth.dev/environment` label. */
  readonly environment?: string;
  /** Hold everything to production rules, whatever the environment says. */
  readonly production?: boolean;
  /** Known environments; defaults to the shipped ones. */
  readonly configs?: Record<string, PlatformConfig>;
}

let shipped: Record<string, PlatformConfig> | undefined;
function shippedConfigs(): Record<string, PlatformConfig> {
  shipped ??= Object.fromEntries(
    Object.entries(environments).map(([name, input]) => [name, validatePlatformConfig(name, input)]),
  );
  return shipped;
}

export function createContext(all: readonly PolicyResource[], options: ContextOptions = {}): CheckContext {
  const configs = options.configs ?? shippedConfigs();
  return {
    all,
    environmentOf: (r) => r.labels[PLINTH_LABELS.environment] ?? options.environment,
    poolsOf(environment) {
      const config = environment ? configs[environment] : undefined;
      if (!config) return undefined;
      return { names: Object.keys(config.nodePools), gpu: gpuPools(config), core: corePoolName(config) };
    },
    teamCredentialsOf(environment) {
      const config = environment ? configs[environment] : undefined;
      return config ? teamCredentialKind(config.artifacts) : undefined;
    },
    isProduction: (environment) =>
      options.production ?? (environment ? configs[environment]?.production === true : false),
  };
}
