import { describe, expect, it } from 'vitest';
import { selects } from '../../policies/label-selector.js';

describe('label selectors', () => {
  const labels = { 'plinth.dev/team': 'vision', tier: 'gpu' };

  it('select everything when absent or empty', () => {
    expect(selects(undefined, {})).toBe(true);
    expect(selects({}, labels)).toBe(true);
  });

  it('need every matchLabels entry and every expression to hold', () => {
    expect(selects({ matchLabels: { tier: 'gpu' } }, labels)).toBe(true);
    expect(selects({ matchLabels: { tier: 'cpu' } }, labels)).toBe(false);
    expect(
      selects(
        { matchLabels: { tier: 'gpu' }, matchExpressions: [{ key: 'plinth.dev/team', operator: 'DoesNotExist' }] },
        labels,
      ),
    ).toBe(false);
  });

  it.each([
    ['In', ['vision', 'nlp'], true],
    ['In', ['nlp'], false],
    ['NotIn', ['nlp'], true],
    ['NotIn', ['vision'], false],
    ['Exists', [], true],
    ['DoesNotExist', [], false],
    ['Matches', ['vision'], false],
  ])('evaluate %s %j on a present label as the API server does: %s', (operator, values, expected) => {
    expect(selects({ matchExpressions: [{ key: 'plinth.dev/team', operator, values }] }, labels)).toBe(expected);
  });

  it('treat an absent label as not in any set', () => {
    expect(selects({ matchExpressions: [{ key: 'absent', operator: 'In', values: ['x'] }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'absent', operator: 'NotIn', values: ['x'] }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'absent', operator: 'Exists' }] }, labels)).toBe(false);
  });
});
