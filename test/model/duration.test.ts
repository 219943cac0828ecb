import { describe, expect, it } from 'vitest';
import { duration, durationSeconds } from '../../model/config/duration.js';

describe('durations', () => {
  it('reads each unit, m as minutes', () => {
    expect(durationSeconds('45s')).toBe(45);
    expect(durationSeconds('90m')).toBe(5400);
    expect(durationSeconds('12h')).toBe(43_200);
    expect(durationSeconds('7d')).toBe(604_800);
  });

  it('refuses what the config schema refuses', () => {
    for (const text of ['7', '07d', '1w', '-1d', '1.5h', '7 d', 'd']) {
      expect(duration.safeParse(text).success, text).toBe(false);
      expect(() => durationSeconds(text), text).toThrow(`"${text}" is not a duration such as "7d"`);
    }
  });
});
