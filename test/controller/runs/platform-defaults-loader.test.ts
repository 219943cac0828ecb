import { describe, expect, it } from 'vitest';
import { parsePlatformDefaults } from '../../../controller/runs/platform-defaults-loader.js';
import { DURATION_PATTERN } from '../../../model/config/duration.js';
import { runDefaultsOf } from '../../support/platform.js';

const WHERE = 'ConfigMap plinth/plinth-controller platform-defaults.json';

describe('parsePlatformDefaults', () => {
  it('reads the defaults the constructs write', () => {
    const defaults = runDefaultsOf('onprem');
    expect(parsePlatformDefaults(JSON.stringify(defaults), WHERE)).toEqual(defaults);
  });

  it("names every field an older ConfigMap lacks, a team's included", () => {
    const defaults = runDefaultsOf('local');
    const vision = { ...defaults.teams['plinth-vision']!, connections: undefined, defaultPool: undefined };
    const older = { ...defaults, connections: undefined, teams: { ...defaults.teams, 'plinth-vision': vision } };
    const text = JSON.stringify(older);
    expect(() => parsePlatformDefaults(text, WHERE)).toThrow(
      [
        `${WHERE}: /connections: Expected required property`,
        `${WHERE}: /teams/plinth-vision/defaultPool: Expected required property`,
        `${WHERE}: /teams/plinth-vision/connections: Expected required property`,
      ].join('\n'),
    );
  });

  it('names every field of the wrong type, with its path', () => {
    const defaults = runDefaultsOf('local');
    const vision = { ...defaults.teams['plinth-vision']!, connections: 'huggingface', gpu: '8' };
    const pools = { ...defaults.pools, cpu: { ...defaults.pools['cpu']!, tolerations: {} } };
    const teams = { ...defaults.teams, 'plinth-vision': vision };
    const text = JSON.stringify({ ...defaults, pools, teams, runRetention: '7 days' });
    const error = (() => {
      try {
        parsePlatformDefaults(text, WHERE);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('expected the defaults to be refused');
    })();
    expect(error.split('\n').sort()).toEqual(
      [
        `${WHERE}: /pools/cpu/tolerations: Expected array`,
        `${WHERE}: /teams/plinth-vision/gpu: Expected integer`,
        `${WHERE}: /teams/plinth-vision/connections: Expected array`,
        `${WHERE}: /runRetention: Expected string to match '${DURATION_PATTERN}'`,
      ].sort(),
    );
  });
});
