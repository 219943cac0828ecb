import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUN_REASONS } from '../../controller/api/reasons.js';
import {
  imagesTable,
  README,
  reasonsTable,
  securityFloorTable,
  withGeneratedSections,
} from '../../docs/generated-sections.js';
import { IMAGES } from '../../images/definitions/index.js';
import { SECURITY_FLOOR } from '../../model/security-floor.js';

describe("the README's generated sections", () => {
  it('say what the code says: run `npm run docs` after changing what they are generated from', () => {
    const readme = readFileSync(README, 'utf8');
    expect(withGeneratedSections(readme)).toBe(readme);
  });

  it('list every reason of the Run API', () => {
    const table = reasonsTable();
    for (const reason of Object.keys(RUN_REASONS)) expect(table).toContain(`| \`${reason}\``);
  });

  it('list every field of the security floor, with its reason', () => {
    const rows = securityFloorTable().split('\n');
    for (const field of SECURITY_FLOOR) {
      expect(rows.find((row) => row.startsWith(`| \`${field.path}\` `))).toContain(`| ${field.reason} `);
    }
  });

  it('list every image npm run images builds, with its user', () => {
    const rows = imagesTable().split('\n');
    for (const image of IMAGES) {
      expect(rows.find((row) => row.startsWith(`| \`${image.name}\` `))).toContain(
        `\`${image.user.uid}:${image.user.gid}\``,
      );
    }
  });
});
