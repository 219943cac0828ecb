import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, find, inputOf, objectsOf, ofKind, renderInput } from '../support/platform.js';

type Ingress = {
  spec: { ingressClassName: string; tls: { hosts: string[]; secretName: string }[]; rules: { host: string }[] };
};

describe.each(ENVIRONMENTS)('ingress in %s', (env) => {
  it('serves every Ingress over TLS, for the hosts it routes', () => {
    const ingresses = ofKind(objectsOf(env), 'Ingress') as unknown as Ingress[];
    expect(ingresses.length).toBeGreaterThan(0);
    for (const ingress of ingresses) {
      expect(ingress.spec.tls[0]?.hosts).toEqual(ingress.spec.rules.map((r) => r.host));
    }
  });
});

describe('ACME TLS in onprem', () => {
  const objects = objectsOf('onprem');

  it('creates a ClusterIssuer with the owner email and an HTTP-01 solver on the ingress class', () => {
    const issuer = find(objects, 'ClusterIssuer', 'plinth-onprem-acme') as unknown as { spec: { acme: unknown } };
    expect(issuer.spec.acme).toMatchObject({
      email: 'platform@example.com',
      server: 'https://acme-v02.api.letsencrypt.org/directory',
      solvers: [{ http01: { ingress: { ingressClassName: 'nginx' } } }],
    });
  });

  it('issues certificates for tracking and for each team’s run services', () => {
    const tracking = find(objects, 'Certificate', 'tracking-tls', 'plinth') as unknown as { spec: unknown };
    expect(tracking.spec).toMatchObject({
      dnsNames: ['tracking.ml.example.com'],
      secretName: 'tracking-tls',
      issuerRef: { name: 'plinth-onprem-acme', kind: 'ClusterIssuer' },
    });
    const runs = find(objects, 'Certificate', 'runs-tls', 'plinth-vision') as unknown as { spec: unknown };
    expect(runs.spec).toMatchObject({ dnsNames: ['vision.runs.ml.example.com'] });
    const ingress = find(objects, 'Ingress', 'tracking', 'plinth') as unknown as Ingress;
    expect(ingress.spec.tls).toEqual([{ hosts: ['tracking.ml.example.com'], secretName: 'tracking-tls' }]);
  });
});

describe('TLS from an existing Secret', () => {
  it('uses the Secret and asks cert-manager for nothing', () => {
    const input = inputOf('onprem');
    input.ingress = { domain: 'ml.example.com', tls: { kind: 'secret', secretName: 'wildcard-tls' } };
    const objects = renderInput(input);
    expect(ofKind(objects, 'Certificate')).toEqual([]);
    expect(ofKind(objects, 'ClusterIssuer')).toEqual([]);
    const ingress = find(objects, 'Ingress', 'tracking', 'plinth') as unknown as Ingress;
    expect(ingress.spec.tls[0]?.secretName).toBe('wildcard-tls');
  });
});
