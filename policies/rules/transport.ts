import type { Finding, Rule } from '../rule.js';
import type { PolicyResource } from '../resource.js';
import { WORKLOAD_KINDS, containersOf, podSpecOf } from '../pod-spec.js';

/** Names that say "this is a credential". */
const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;
/**
 * Values that are credentials whatever they are called. Kubernetes $(VAR) references are not, nor
 * is a JSON boolean or null after a key such as mountToken.
 */
const SECRET_VALUE = [
  { pattern: /AKIA[0-9A-Z]{16}/, what: 'an AWS access key id' },
  { pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, what: 'a private key' },
  { pattern: /:\/\/[^/\s:@$]+:(?!\$\()[^@\s/]+@/, what: 'a password in a URI' },
  { pattern: /"?(password|secret|token)"?\s*[:=]\s*(?!(?:true|false|null)\b)"?[^\s"$,}{]{4,}/i, what: 'a password' },
];

function secretIn(value: string): string | undefined {
  return SECRET_VALUE.find((s) => s.pattern.test(value))?.what;
}

const S3_BUCKETS = ['aws:s3/bucketV2:BucketV2', 'aws:s3/bucket:Bucket'];

/** The resources configuring a bucket: those that name it, or that depend on it in the Pulumi graph. */
function bucketConfig(all: readonly PolicyResource[], bucket: PolicyResource, type: string): PolicyResource[] {
  return all.filter(
    (o) =>
      o.kind === type &&
      (o.body['bucket'] === bucket.body['bucket'] ||
        o.body['bucket'] === bucket.name ||
        (o.dependencies ?? []).includes(bucket.urn ?? '\0')),
  );
}

export const transportRules: Rule[] = [
  {
    id: 'ingress-tls',
    severity: 'error',
    rationale: 'Tokens, notebooks and model outputs must not cross the network in the clear.',
    remediation: 'Add spec.tls covering every host the Ingress routes.',
    kinds: ['Ingress'],
    check(r) {
      const spec = (r.body['spec'] ?? {}) as { tls?: { hosts?: string[] }[]; rules?: { host?: string }[] };
      const covered = new Set((spec.tls ?? []).flatMap((t) => t.hosts ?? []));
      if (!spec.tls?.length) return [{ field: 'spec.tls', message: 'serves without TLS' }];
      return (spec.rules ?? [])
        .map((rule, i) => ({ rule, i }))
        .filter(({ rule }) => rule.host && !covered.has(rule.host))
        .map(({ rule, i }) => ({
          field: `spec.rules[${i}].host`,
          message: `host ${rule.host} is not covered by spec.tls`,
        }));
    },
  },
  {
    id: 's3-bucket-protected',
    severity: 'error',
    rationale: 'Artifacts are the teams’ results: they must be encrypted, versioned and never public.',
    remediation:
      'Add server-side encryption, versioning (Enabled) and a public access block with all four settings true.',
    kinds: S3_BUCKETS,
    check(r, context) {
      const findings: Finding[] = [];
      const encrypted =
        Boolean(r.body['serverSideEncryptionConfiguration']) ||
        bucketConfig(
          context.all,
          r,
          'aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2',
        ).length > 0;
      const versioned =
        (r.body['versioning'] as { enabled?: boolean } | undefined)?.enabled === true ||
        bucketConfig(context.all, r, 'aws:s3/bucketVersioningV2:BucketVersioningV2').some(
          (v) => (v.body['versioningConfiguration'] as { status?: string } | undefined)?.status === 'Enabled',
        );
      const blocked = bucketConfig(context.all, r, 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock').some((b) =>
        ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'].every(
          (k) => b.body[k] === true,
        ),
      );
      if (!encrypted)
        findings.push({ field: 'serverSideEncryptionConfiguration', message: 'is not encrypted at rest' });
      if (!versioned) findings.push({ field: 'versioning', message: 'is not versioned' });
      if (!blocked) findings.push({ field: 'publicAccessBlock', message: 'has no public access block' });
      return findings;
    },
  },
  {
    id: 'rds-encrypted',
    severity: 'error',
    rationale: 'The platform database holds every team’s metadata and credentials references.',
    remediation: 'Set storageEncrypted: true.',
    kinds: ['aws:rds/instance:Instance'],
    check(r) {
      return r.body['storageEncrypted'] === true
        ? []
        : [{ field: 'storageEncrypted', message: 'stores data unencrypted' }];
    },
  },
  {
    id: 'no-plaintext-secrets',
    severity: 'error',
    rationale: 'Manifests and ConfigMaps are read by many and committed to Git; Secrets are not.',
    remediation: 'Move the value to a Secret and reference it with valueFrom.secretKeyRef (or mount it).',
    kinds: [...WORKLOAD_KINDS, 'ConfigMap'],
    check(r) {
      if (r.kind === 'ConfigMap') {
        const data = (r.body['data'] ?? {}) as Record<string, string>;
        return Object.entries(data).flatMap(([key, value]) => {
          const what = SECRET_NAME.test(key) && value.trim() !== '' ? 'a credential, by its name' : secretIn(value);
          return what ? [{ field: `data["${key}"]`, message: `holds ${what}` }] : [];
        });
      }
      const pod = podSpecOf(r);
      if (!pod) return [];
      return containersOf(pod).flatMap(({ container, path }) =>
        (container.env ?? []).flatMap((e, i) => {
          if (e.value === undefined || e.value === '') return [];
          const what = SECRET_NAME.test(e.name) ? 'a credential, by its name' : secretIn(e.value);
          return what
            ? [{ field: `${path}.env[${i}].value`, message: `env ${e.name} holds ${what} in plain text` }]
            : [];
        }),
      );
    },
  },
];
