import type { Rule } from '../rule.js';
import { availabilityRules } from './availability.js';
import { imageRules } from './images.js';
import { isolationRules } from './isolation.js';
import { podSecurityRules } from './pod-security.js';
import { resourceRules } from './resources.js';
import { schedulingRules } from './scheduling.js';
import { transportRules } from './transport.js';

/** Every rule, in report order. */
export const ALL_RULES: readonly Rule[] = [
  ...podSecurityRules,
  ...resourceRules,
  ...imageRules,
  ...schedulingRules,
  ...availabilityRules,
  ...isolationRules,
  ...transportRules,
];
