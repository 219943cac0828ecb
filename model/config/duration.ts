import { z } from 'zod';

/**
 * A duration in the config: a whole number and a unit, as Prometheus and Go write them (`m` is
 * minutes; `database.backup.retention` is CloudNativePG's own format, where `m` is months).
 */
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
type Unit = keyof typeof UNIT_SECONDS;

/** The pattern of a duration, for every schema that checks one (the config's and the controller's defaults'). */
export const DURATION_PATTERN = `^[1-9][0-9]*[${Object.keys(UNIT_SECONDS).join('')}]$`;

export const duration = z.string().regex(new RegExp(DURATION_PATTERN), {
  error: 'must be a whole number followed by s, m (minutes), h or d, such as "7d" or "12h"',
});

/** The seconds a duration that matches DURATION_PATTERN stands for. */
export function durationSeconds(text: string): number {
  if (!new RegExp(DURATION_PATTERN).test(text)) throw new Error(`"${text}" is not a duration such as "7d"`);
  return Number(text.slice(0, -1)) * UNIT_SECONDS[text.slice(-1) as Unit];
}
