/** Connections that more than one environment offers. */
import type { ConnectionInput } from '../../model/config/connections.js';

/** A read-only dataset volume; platform engineers make the `datasets` claim in each team namespace. */
export const DATASETS: ConnectionInput = {
  name: 'datasets',
  description: 'The shared datasets volume, read-only',
  volumeClaim: { claimName: 'datasets', mountPath: '/datasets' },
};

/** Git over HTTPS, with the team's credentials as a file. */
export const GIT: ConnectionInput = {
  name: 'git',
  description: "Clones over HTTPS with the team's git-credentials Secret (key .git-credentials)",
  // Git reads its config from env, so no file in the image has to change.
  env: {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'credential.helper',
    GIT_CONFIG_VALUE_0: 'store --file=/etc/plinth/git/.git-credentials',
  },
  secret: { name: 'git-credentials', mountPath: '/etc/plinth/git' },
  egress: { ports: [443] },
};
