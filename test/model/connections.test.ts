import { describe, expect, it } from 'vitest';
import type { Connection } from '../../model/config/connections.js';
import { runConnection } from '../../model/connections.js';

const connection = (c: Partial<Connection>): Connection => ({ name: 'hub', env: {}, ...c });

describe('runConnection', () => {
  it('gives a Secret or ConfigMap without a mount path as env, by reference', () => {
    expect(runConnection(connection({ secret: { name: 'hub-token' }, configMap: { name: 'hub-settings' } }))).toEqual({
      labels: { 'connections.plinth.dev/hub': 'true' },
      env: [],
      envFrom: [{ secretRef: { name: 'hub-token' } }, { configMapRef: { name: 'hub-settings' } }],
      volumes: [],
      volumeMounts: [],
    });
  });

  it('mounts a Secret, ConfigMap or claim with a mount path read-only, under names of its own', () => {
    const wired = runConnection(
      connection({
        name: 'git',
        env: { GIT_CONFIG_COUNT: '0' },
        secret: { name: 'git-credentials', mountPath: '/etc/plinth/git' },
        configMap: { name: 'git-hosts', mountPath: '/etc/plinth/git-hosts' },
        volumeClaim: { claimName: 'mirror', mountPath: '/mirror', readOnly: false },
      }),
    );
    expect(wired.env).toEqual([{ name: 'GIT_CONFIG_COUNT', value: '0' }]);
    expect(wired.envFrom).toEqual([]);
    expect(wired.volumes).toEqual([
      { name: 'conn-git-secret', secret: { secretName: 'git-credentials' } },
      { name: 'conn-git-config', configMap: { name: 'git-hosts' } },
      { name: 'conn-git-claim', persistentVolumeClaim: { claimName: 'mirror', readOnly: false } },
    ]);
    expect(wired.volumeMounts).toEqual([
      { name: 'conn-git-secret', mountPath: '/etc/plinth/git', readOnly: true },
      { name: 'conn-git-config', mountPath: '/etc/plinth/git-hosts', readOnly: true },
      { name: 'conn-git-claim', mountPath: '/mirror', readOnly: false },
    ]);
  });
});
