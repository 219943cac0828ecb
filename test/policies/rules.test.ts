import { describe, expect, it } from 'vitest';
import { WAIVER_RULE, checkResources, violations } from '../../policies/check.js';
import { createContext } from '../../policies/context.js';
import { describeResource, fromManifest, type PolicyResource } from '../../policies/resource.js';
import { ALL_RULES } from '../../policies/rules/index.js';
import { teamCredentialKind } from '../../model/artifacts.js';
import { ENVIRONMENTS, configOf, objectsOf } from '../support/platform.js';
import { FIXTURES } from './fixtures.js';

const RULE_IDS = [...ALL_RULES, WAIVER_RULE].map((r) => r.id);
const check = (resources: Parameters<typeof createContext>[0], production = false) =>
  checkResources(createContext(resources, { production }));

describe('policy rules', () => {
  it('has a violating and a passing fixture for every rule', () => {
    expect(Object.keys(FIXTURES).sort()).toEqual([...RULE_IDS].sort());
  });

  const severityOf = (id: string) => [...ALL_RULES, WAIVER_RULE].find((r) => r.id === id)!.severity;

  it.each(RULE_IDS)('%s: flags the violating fixture, naming the object and the field', (id) => {
    const { resources, subject } = FIXTURES[id]!.violating;
    const production = id === 'rds-multi-az';
    const found = violations(check(resources, production), severityOf(id)).filter((r) => r.rule.id === id);
    expect(found.length, `no ${id} violation`).toBeGreaterThan(0);
    expect(found.map((r) => describeResource(r.resource))).toContain(subject);
    for (const r of found) expect(r.finding.field).not.toBe('');
  });

  it.each(RULE_IDS)('%s: passes the passing fixture', (id) => {
    const { resources } = FIXTURES[id]!.passing;
    expect(violations(check(resources, id === 'rds-multi-az'), severityOf(id)).filter((r) => r.rule.id === id)).toEqual(
      [],
    );
  });

  it('reports a waived rule as waived, with its reason, never silently', () => {
    const results = check(FIXTURES['waiver-has-reason']!.passing.resources.map((r) => ({ ...r, body: r.body })));
    expect(results.filter((r) => r.waived)).toEqual([]); // nothing to waive on a clean object
    const pinned = FIXTURES['image-pinned']!.violating.resources.map((r) =>
      r.kind === 'Deployment'
        ? { ...r, annotations: { 'policies.plinth.dev/waive': 'image-pinned=vendor image, digest tracked upstream' } }
        : r,
    );
    const waived = check(pinned).filter((r) => r.rule.id === 'image-pinned');
    expect(waived.length).toBeGreaterThan(0);
    expect(waived.every((r) => r.waived === 'vendor image, digest tracked upstream')).toBe(true);
    expect(violations(check(pinned))).toEqual([]);
  });

  it('requires digests only in production', () => {
    const pinning = (resources: PolicyResource[], production: boolean) =>
      violations(check(resources, production))
        .filter((r) => r.rule.id === 'image-pinned')
        .map((r) => r.finding.message);
    const tagged = FIXTURES['image-pinned']!.passing.resources;
    const container = (resources: PolicyResource[]) =>
      (resources.find((r) => r.kind === 'Deployment')!.body as any).spec.template.spec.containers[0];
    // The platform's own images are tagged by the hash of their inputs.
    const image = container(tagged).image as string;
    expect(image).toMatch(/^plinth\.local\/controller:[0-9a-f]{16}$/);
    expect(pinning(tagged, false)).toEqual([]);
    expect(pinning(tagged, true)).toEqual([`image "${image}" is not pinned by digest, as production requires`]);
    const pinned = structuredClone(tagged);
    container(pinned).image = `${image}@sha256:${'0'.repeat(64)}`;
    expect(pinning(pinned, true)).toEqual([]);
  });

  it("holds a CloudNativePG Cluster's operand image, and an image catalog's, to the same pinning", () => {
    const database = objectsOf('local').find((o) => o.kind === 'Cluster')!;
    const catalog = objectsOf('local').find((o) => o.kind === 'ImageCatalog')!;
    const withClusterImage = (imageName: string) =>
      fromManifest({ ...structuredClone(database), spec: { ...(database as any).spec, imageName } });
    const withCatalogImage = (image: string) =>
      fromManifest({ ...structuredClone(catalog), spec: { images: [{ major: 15, image }] } });
    const pinning = (resource: ReturnType<typeof fromManifest>, production: boolean) =>
      violations(check([resource], production))
        .filter((r) => r.rule.id === 'image-pinned')
        .map((r) => `${r.finding.field}: ${r.finding.message}`);
    const tagged = (catalog as any).spec.images[0].image as string;
    expect(tagged).toMatch(/^plinth\.local\/postgres:[0-9a-f]{16}$/);
    for (const [resource, field] of [
      [withClusterImage, 'spec.imageName'],
      [withCatalogImage, 'spec.images[0].image'],
    ] as const) {
      expect(pinning(resource(tagged), false)).toEqual([]);
      expect(pinning(resource(tagged), true)).toEqual([
        `${field}: image "${tagged}" is not pinned by digest, as production requires`,
      ]);
      expect(pinning(resource(`${tagged}@sha256:${'0'.repeat(64)}`), true)).toEqual([]);
      expect(pinning(resource('ghcr.io/cloudnative-pg/postgresql:latest'), false)).toEqual([
        `${field}: image "ghcr.io/cloudnative-pg/postgresql:latest" uses latest`,
      ]);
    }
  });

  it.each(ENVIRONMENTS)('passes the whole synthesized %s platform with zero violations', (env) => {
    const resources = objectsOf(env).map((o) => fromManifest(o as Record<string, unknown>));
    const results = check(resources);
    expect(violations(results).map((r) => `${r.rule.id} ${describeResource(r.resource)} ${r.finding.message}`)).toEqual(
      [],
    );
    // The one warning: where the store takes keys, each team's own Secret comes from outside the
    // manifests (pulumi up, or the GitOps repository's secret manager).
    const config = configOf(env);
    const ownSecrets = teamCredentialKind(config.artifacts) === 'secret';
    expect(violations(results, 'warning').map((r) => `${r.rule.id} ${describeResource(r.resource)}`)).toEqual(
      ownSecrets ? config.teams.map((t) => `team-artifact-credentials Namespace plinth-${t.name}`) : [],
    );
  });

  it("takes the team's Secret from an ExternalSecret or a SealedSecret, and asks none of a store reached by a workload identity", () => {
    const namespace = objectsOf('local').filter((o) => o.kind === 'Namespace' && o.metadata.name === 'plinth-nlp');
    const warned = (...others: Record<string, unknown>[]) =>
      violations(check([...namespace, ...others].map((o) => fromManifest(o as Record<string, unknown>))), 'warning')
        .filter((r) => r.rule.id === 'team-artifact-credentials')
        .map((r) => r.finding.message);
    const external = (target?: string) => ({
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: target ? 'store-keys' : 'artifact-store-nlp', namespace: 'plinth-nlp' },
      spec: target ? { target: { name: target } } : {},
    });
    expect(warned()).toEqual([
      "has no Secret artifact-store-nlp, nor an ExternalSecret or SealedSecret that makes it: the team's runs cannot reach the artifact store",
    ]);
    expect(warned(external('artifact-store-nlp'))).toEqual([]);
    expect(warned(external())).toEqual([]);
    expect(warned(external('other'))).toHaveLength(1);
    const sealed = {
      apiVersion: 'bitnami.com/v1alpha1',
      kind: 'SealedSecret',
      metadata: { name: 'artifact-store-nlp', namespace: 'plinth-nlp' },
    };
    expect(warned(sealed)).toEqual([]);
    // Another team's Secret is not this team's.
    expect(
      warned({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'artifact-store-nlp', namespace: 'plinth-vision' },
      }),
    ).toHaveLength(1);
    const aws = objectsOf('aws').filter((o) => o.kind === 'Namespace' && o.metadata.labels?.['plinth.dev/team']);
    expect(violations(check(aws.map((o) => fromManifest(o as Record<string, unknown>))), 'warning')).toEqual([]);
  });
});
