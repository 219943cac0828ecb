import { describe, expect, it } from 'vitest';
import { parsePlatformDefaults } from '../../../controller/runs/platform-defaults-loader.js';
import { runDefaultsOf } from '../../support/platform.js';

const WHERE = 'ConfigMap plinth/plinth-controller platform-defaults.json';

describe('parsePlatformDefaults', () => {
  it('reads the defaults the constructs write', () => {
    const defaults = runDefaultsOf('onprem');
    expect(parsePlatformDefaults(JSON.stringify(defaults), WHERE)).toEqual(defaults);
  });

  it("names every field an older ConfigMap lacks, a team's included", () => {
    const defaults = runDefaultsOf('local');
    const vision = { ...defaults.teams['plinth-vision']!, connections: undefined };
    const older = { ...defaults, connections: undefined, teams: { ...defaults.teams, 'plinth-vision': vision } };
    const text = JSON.stringify(older);
    expect(() => parsePlatformDefaults(text, WHERE)).toThrow(
      `${WHERE} lacks: connections, teams["plinth-vision"].connections`,
    );
  });
});
