import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUN_REASONS } from '../../controller/api/reasons.js';
import { README, reasonsTable, withGeneratedSections } from '../../docs/generated-sections.js';

describe("the README's generated sections", () => {
  it('say what the code says: run `npm run docs` after changing what they are generated from', () => {
    const readme = readFileSync(README, 'utf8');
    expect(withGeneratedSections(readme)).toBe(readme);
  });

  it('list every reason of the Run API', () => {
    const table = reasonsTable();
    for (const reason of Object.keys(RUN_REASONS)) expect(table).toContain(`| \`${reason}\``);
  });
});
