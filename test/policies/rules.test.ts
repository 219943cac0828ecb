import { describe, expect, it } from 'vitest';
import { WAIVER_RULE, checkResources, violations } from '../../policies/check.js';
import { createContext } from '../../policies/context.js';
import { describeResource, fromManifest } from '../../policies/resource.js';
import { ALL_RULES } from '../../policies/rules/index.js';
import { ENVIRONMENTS, objectsOf } from '../support/platform.js';
import { FIXTURES } from './fixtures.js';

const RULE_IDS = [...ALL_RULES, WAIVER_RULE].map((r) => r.id);
const check = (resources: Parameters<typeof createContext>[0], production = false) =>
  checkResources(createContext(resources, { production }));

describe('policy rules', () => {
  it('has a violating and a passing fixture for every rule', () => {
    expect(Object.keys(FIXTURES).sort()).toEqual([...RULE_IDS].sort());
  });

  it.each(RULE_IDS)('%s: flags the violating fixture, naming the object and the field', (id) => {
    const { resources, subject } = FIXTURES[id]!.violating;
    const production = id === 'rds-multi-az';
    const found = violations(check(resources, production)).filter((r) => r.rule.id === id);
    expect(found.length, `no ${id} violation`).toBeGreaterThan(0);
    expect(found.map((r) => describeResource(r.resource))).toContain(subject);
    for (const r of found) expect(r.finding.field).not.toBe('');
  });

  it.each(RULE_IDS)('%s: passes the passing fixture', (id) => {
    const { resources } = FIXTURES[id]!.passing;
    expect(violations(check(resources, id === 'rds-multi-az')).filter((r) => r.rule.id === id)).toEqual([]);
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
    const tagged = FIXTURES['image-pinned']!.passing.resources;
    expect(violations(check(tagged, false)).filter((r) => r.rule.id === 'image-pinned')).toEqual([]);
    expect(violations(check(tagged, true)).map((r) => r.finding.message)).toContain(
      'image "ghcr.io/plinth-dev/controller:0.1.0" is not pinned by digest, as production requires',
    );
  });

  it.each(ENVIRONMENTS)('passes the whole synthesized %s platform with zero violations', (env) => {
    const resources = objectsOf(env).map((o) => fromManifest(o as Record<string, unknown>));
    const results = check(resources);
    expect(violations(results).map((r) => `${r.rule.id} ${describeResource(r.resource)} ${r.finding.message}`)).toEqual(
      [],
    );
    expect(violations(results, 'warning')).toEqual([]);
  });
});
