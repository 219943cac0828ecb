import type { PlatformConfigInput } from '../../model/config/schema.js';
import { aws } from './aws.js';
import { local } from './local.js';
import { onprem } from './onprem.js';

/** Every environment `npm run synth` writes, keyed by the name used in dist/<env>/. */
export const environments: Record<string, PlatformConfigInput> = {
  local,
  onprem,
  aws: aws(),
};
