import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, configOf, objectsOf, podSpecs } from '../support/platform.js';

describe.each(ENVIRONMENTS)('security floor in %s', (env) => {
  const objects = objectsOf(env);
  const pods = podSpecs(objects);
  const config = configOf(env);

  it('has platform workloads to check', () => {
    const ownStore = config.artifacts.kind === 's3' && config.artifacts.server !== undefined;
    expect(pods.map((p) => p.owner.metadata.name).sort()).toEqual(
      ownStore
        ? ['artifact-store-users', 'controller', 'object-store', 'object-store-expiry', 'tracking']
        : ['controller', 'tracking'],
    );
  });

  it.each(pods.map((p) => [p.owner.metadata.name, p.spec] as const))(
    '%s runs as the configured non-root user',
    (_, spec) => {
      expect(spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: config.security.runAsUser,
        runAsGroup: config.security.runAsGroup,
        fsGroup: config.security.fsGroup,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(spec.securityContext?.['runAsUser']).not.toBe(0);
    },
  );

  it.each(pods.map((p) => [p.owner.metadata.name, p.spec] as const))(
    '%s containers drop every privilege',
    (_, spec) => {
      for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
        expect(container.securityContext).toEqual({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
      }
    },
  );

  it('gives no platform pod an API token unless it calls the API', () => {
    for (const { owner, spec } of pods) {
      expect(spec.automountServiceAccountToken, owner.metadata.name).toBe(owner.metadata.name === 'controller');
    }
  });

  it('puts no secret values in manifests', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    for (const { spec } of pods) {
      for (const e of spec.containers.flatMap((c) => c.env ?? [])) {
        if (/PASSWORD|SECRET|ACCESS_KEY/.test(e.name)) expect(e.valueFrom, e.name).toBeDefined();
      }
    }
  });

  it('enforces the restricted Pod Security Standard on every namespace', () => {
    const namespaces = objects.filter((o) => o.kind === 'Namespace');
    expect(namespaces.length).toBe(1 + config.teams.length);
    for (const ns of namespaces) {
      expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], ns.metadata.name).toBe('restricted');
    }
  });
});
