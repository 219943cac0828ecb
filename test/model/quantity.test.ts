import { describe, expect, it } from 'vitest';
import { quantityValue } from '../../model/quantity.js';

describe('quantityValue', () => {
  it.each<[string | number, number]>([
    [2, 2],
    ['2', 2],
    ['1000m', 1],
    ['500m', 0.5],
    ['1e3', 1000],
    ['1.5', 1.5],
    ['+3', 3],
    ['.5', 0.5],
    ['2k', 2000],
    ['1Ki', 1024],
    ['4Gi', 4 * 2 ** 30],
    ['250u', 0.00025],
  ])('reads %s as %s', (quantity, value) => {
    expect(quantityValue(quantity)).toBeCloseTo(value, 12);
  });

  it('names what is not a quantity', () => {
    for (const bad of ['', 'one', '1Gb', '1 Gi', '1.2.3']) {
      expect(() => quantityValue(bad)).toThrow(`"${bad}" is not a Kubernetes quantity`);
    }
  });
});
