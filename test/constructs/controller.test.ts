import { describe, expect, it } from 'vitest';
import { PLATFORM_DEFAULTS_KEY, type PlatformDefaults } from '../../controller/api/platform-defaults.js';
import { RunSpec } from '../../controller/api/run.js';
import { ENVIRONMENTS, configOf, find, objectsOf, podSpecs, runDefaultsOf } from '../support/platform.js';

describe.each(ENVIRONMENTS)('controller in %s', (env) => {
  const objects = objectsOf(env);
  const config = configOf(env);

  it('runs two replicas with leader election on its own ServiceAccount', () => {
    const { owner, spec } = podSpecs(objects).find((p) => p.owner.metadata.name === 'controller')!;
    expect((owner as unknown as { spec: { replicas: number } }).spec.replicas).toBe(2);
    expect(spec.serviceAccountName).toBe('plinth-controller');
    expect(spec.containers[0]?.args).toContain('--lease=plinth-controller');
  });

  it('carries the platform defaults it applies to runs', () => {
    const map = find(objects, 'ConfigMap', 'plinth-controller', 'plinth') as unknown as {
      data: Record<string, string>;
    };
    const defaults = JSON.parse(map.data[PLATFORM_DEFAULTS_KEY]!) as PlatformDefaults;
    expect(defaults.podSecurityContext).toMatchObject({ runAsNonRoot: true, runAsUser: config.security.runAsUser });
    expect(defaults.containerSecurityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(defaults.tracking.uri).toBe('http://tracking.plinth.svc:5000');
    expect(defaults.runServiceAccount).toBe('plinth-run');
    expect(Object.keys(defaults.teams).sort()).toEqual(config.teams.map((t) => `plinth-${t.name}`).sort());
    for (const team of config.teams) {
      expect(defaults.teams[`plinth-${team.name}`]).toMatchObject({
        maxConcurrentRuns: team.quota.maxConcurrentRuns,
        gpu: team.quota.gpu,
      });
    }
    expect(JSON.stringify(defaults)).not.toMatch(/password/i);
  });

  it("gives each team's runs the team's own store credential and outputs, never the platform's", () => {
    const defaults = runDefaultsOf(env, objects);
    const store = config.artifacts;
    const platformSecret =
      store.kind !== 'volume' && 'secret' in store.credentials ? store.credentials.secret.name : '';
    for (const team of config.teams) {
      const wiring = defaults.teams[`plinth-${team.name}`]!.artifacts;
      const secrets = [
        ...wiring.env.flatMap((e) => e.valueFrom?.secretKeyRef?.name ?? []),
        ...wiring.volumes.flatMap((v) => v.secret?.secretName ?? []),
      ];
      if (platformSecret) {
        expect(secrets.length).toBeGreaterThan(0);
        expect(new Set(secrets)).toEqual(new Set([`artifact-store-${team.name}`]));
      } else {
        expect(secrets).toEqual([]);
      }
      const uri = wiring.env.find((e) => e.name === 'PLINTH_ARTIFACTS_URI')?.value;
      expect(uri).toMatch(new RegExp(`/outputs/${team.name}$`));
    }
    expect(Object.keys(defaults)).not.toContain('artifacts');
  });

  it('emits the Run CRD from the controller schema, with the pools as the only allowed values', () => {
    const crd = find(objects, 'CustomResourceDefinition', 'runs.plinth.dev') as unknown as {
      spec: {
        versions: {
          schema: {
            openAPIV3Schema: {
              properties: {
                spec: {
                  properties: Record<string, { enum?: string[]; items?: { enum?: string[] } }>;
                  required: string[];
                  'x-kubernetes-validations': { fieldPath?: string; message: string }[];
                };
              };
            };
          };
        }[];
      };
    };
    const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec;
    expect(Object.keys(spec.properties).sort()).toEqual(Object.keys(RunSpec.properties).sort());
    expect(spec.required).toEqual(RunSpec.required);
    const runPools = Object.entries(config.nodePools)
      .filter(([, p]) => p.role !== 'core')
      .map(([n]) => n)
      .sort();
    expect(spec.properties['pool']?.enum).toEqual(runPools);
    // The connections likewise; with none defined, a rule refuses any.
    const names = config.connections.map((c) => c.name);
    expect(spec.properties['connections']?.items?.enum).toEqual(names.length > 0 ? names : undefined);
    const refusesAny = spec['x-kubernetes-validations'].some((r) => r.message.includes('defines no connections'));
    expect(refusesAny).toBe(names.length === 0);
  });

  it('describes every field of the Run CRD, for kubectl explain', () => {
    const crd = find(objects, 'CustomResourceDefinition', 'runs.plinth.dev') as unknown as {
      spec: { versions: { schema: { openAPIV3Schema: SchemaNode } }[] };
    };
    const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
    const undescribed = (node: SchemaNode, path: string): string[] => [
      ...Object.entries(node.properties ?? {}).flatMap(([key, child]) => [
        ...(child.description ? [] : [`${path}.${key}`]),
        ...undescribed(child, `${path}.${key}`),
      ]),
      ...(node.items ? undescribed(node.items, `${path}[]`) : []),
    ];
    expect(root.description).toBeTruthy();
    expect(undescribed(root.properties!['spec']!, 'spec')).toEqual([]);
    expect(undescribed(root.properties!['status']!, 'status')).toEqual([]);
  });

  it('keys every list-map by required or defaulted fields, as the API server requires of a list-map', () => {
    const crd = find(objects, 'CustomResourceDefinition', 'runs.plinth.dev') as unknown as {
      spec: { versions: { schema: { openAPIV3Schema: SchemaNode } }[] };
    };
    const listMaps = (node: SchemaNode, path: string): { path: string; keys: string[]; required: string[] }[] => [
      ...(node['x-kubernetes-list-type'] === 'map'
        ? [
            {
              path,
              keys: node['x-kubernetes-list-map-keys'] ?? [],
              required: [
                ...(node.items?.required ?? []),
                ...Object.entries(node.items?.properties ?? {})
                  .filter(([, property]) => property.default !== undefined)
                  .map(([key]) => key),
              ],
            },
          ]
        : []),
      ...Object.entries(node.properties ?? {}).flatMap(([key, child]) => listMaps(child, `${path}.${key}`)),
      ...(node.items ? listMaps(node.items, `${path}[]`) : []),
    ];
    const maps = listMaps(crd.spec.versions[0]!.schema.openAPIV3Schema, '');
    expect(maps.map((m) => m.path)).toEqual(expect.arrayContaining(['.status.conditions', '.spec.service.ports']));
    for (const { path, keys, required } of maps) {
      expect(keys, path).not.toEqual([]);
      expect(required, path).toEqual(expect.arrayContaining(keys));
    }
  });
});

interface SchemaNode {
  description?: string;
  default?: unknown;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  required?: string[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
}
