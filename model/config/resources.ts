import { z } from 'zod';
import { quantity } from './primitives.js';

/** Requests and limits of a platform service. */
export const resources = z.strictObject({
  requests: z.strictObject({ cpu: quantity, memory: quantity }),
  limits: z.strictObject({ cpu: quantity, memory: quantity }),
});
export type Resources = z.infer<typeof resources>;
