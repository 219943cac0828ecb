import { describe, expect, it } from 'vitest';
import type { PlatformConfigInput } from '../../model/config/schema.js';
import { PlatformConfigError, validatePlatformConfig } from '../../model/config/validate.js';
import { ENVIRONMENTS, inputOf } from '../support/platform.js';

/** Validates a broken copy of an environment and returns the error message. */
function errorFor(env: string, breakIt: (input: PlatformConfigInput) => void): string {
  const input = inputOf(env);
  breakIt(input);
  try {
    validatePlatformConfig(env, input);
  } catch (error) {
    expect(error).toBeInstanceOf(PlatformConfigError);
    return (error as Error).message;
  }
  throw new Error('expected validation to fail');
}

describe('PlatformConfig validation', () => {
  it.each(ENVIRONMENTS)('accepts the shipped %s environment', (env) => {
    expect(() => validatePlatformConfig(env, inputOf(env))).not.toThrow();
  });

  it('rejects a GPU pool without a taint', () => {
    const message = errorFor('onprem', (c) => {
      c.nodePools['gpu'] = { role: 'gpu', accelerator: 'nvidia-a100', taints: [] };
    });
    expect(message).toContain('environment "onprem"');
    expect(message).toContain('nodePools.gpu.taints: a GPU pool needs a NoSchedule taint');
    expect(message).toContain('nvidia.com/gpu=present:NoSchedule');
  });

  it('rejects a team quota below zero', () => {
    const message = errorFor('local', (c) => {
      c.teams![1]!.quota.gpu = -1;
    });
    expect(message).toContain('environment "local"');
    expect(message).toContain('teams[1].quota.gpu: must be 0 or more');
  });

  it('rejects a negative CPU quota', () => {
    const message = errorFor('local', (c) => {
      c.teams![0]!.quota.cpu = '-4';
    });
    expect(message).toContain('teams[0].quota.cpu: must be a Kubernetes quantity');
    expect(message).toContain('not negative');
  });

  it('rejects a default run pool that does not exist', () => {
    const message = errorFor('onprem', (c) => {
      c.runs = { defaultPool: 'tpu' };
    });
    expect(message).toContain(
      'runs.defaultPool: pool "tpu" does not exist or is not a CPU pool (a GPU pool takes only runs that ask for GPUs); allowed: "cpu"',
    );
  });

  it('rejects a GPU pool as a default pool, which would send runs without GPUs to GPU nodes', () => {
    const message = errorFor('local', (c) => {
      c.runs = { defaultPool: 'gpu' };
      c.teams![1]!.defaultPool = 'gpu';
    });
    expect(message).toContain('runs.defaultPool: pool "gpu" does not exist or is not a CPU pool');
    expect(message).toContain('teams[1].defaultPool: pool "gpu" is not a CPU pool team "nlp" may use; allowed: "cpu"');
  });

  it('rejects run priority classes that Kubernetes keeps for itself, or above its limit, or defined twice', () => {
    const message = errorFor('local', (c) => {
      c.runs = {
        priorityClasses: [
          { name: 'system-urgent', value: 10 },
          { name: 'urgent', value: 2_000_000_000 },
          { name: 'urgent', value: 1 },
        ],
      };
    });
    expect(message).toContain('runs.priorityClasses[0].name: must not start with "system-"');
    expect(message).toContain(
      "runs.priorityClasses[1].value: must be at most 1000000000: higher values are Kubernetes' system classes",
    );
    expect(message).toContain('runs.priorityClasses[2].name: priority class "urgent" is defined twice');
  });

  it("rejects a team's priority class or account that the platform does not define, or defines already", () => {
    const message = errorFor('local', (c) => {
      c.teams![1]!.priorityClasses = ['plinth-urgent', 'system-node-critical'];
      c.teams![1]!.serviceAccounts = [{ name: 'plinth-run' }, { name: 'etl' }, { name: 'etl' }];
    });
    expect(message).toContain(
      'teams[1].priorityClasses[1]: priority class "system-node-critical" is not one of runs.priorityClasses; defined: plinth-urgent',
    );
    expect(message).toContain(
      `teams[1].serviceAccounts[0].name: "plinth-run" is the platform's run account, which every run may use already`,
    );
    expect(message).toContain('teams[1].serviceAccounts[2].name: service account "etl" is listed twice');
  });

  it('rejects a run retention without a unit or in a unit it does not know, saying what it allows', () => {
    for (const retention of ['7', '1w', '0d', '1.5h']) {
      const message = errorFor('local', (c) => {
        c.runs = { retention };
      });
      expect(message).toContain(
        'runs.retention: must be a whole number followed by s, m (minutes), h or d, such as "7d" or "12h"',
      );
    }
  });

  it('rejects a team pool that does not exist, and the core pool as a run pool', () => {
    const message = errorFor('local', (c) => {
      c.teams![0]!.pools = ['cpu', 'core', 'tpu'];
    });
    expect(message).toContain('teams[0].pools[1]: pool "core" does not exist or is not a run pool');
    expect(message).toContain('teams[0].pools[2]: pool "tpu" does not exist or is not a run pool');
  });

  it("rejects a team's default pool outside the pools it may use", () => {
    const message = errorFor('local', (c) => {
      c.teams![0]!.pools = ['gpu'];
      c.teams![0]!.defaultPool = 'cpu';
    });
    expect(message).toContain(
      'teams[0].defaultPool: pool "cpu" is not a CPU pool team "vision" may use; allowed: (none)',
    );
  });

  it("rejects a team's default GPU pool that is no GPU pool of the team", () => {
    const message = errorFor('local', (c) => {
      c.teams![1]!.defaultGpuPool = 'cpu';
    });
    expect(message).toContain(
      'teams[1].defaultGpuPool: pool "cpu" is not a GPU pool team "nlp" may use; allowed: "gpu"',
    );
  });

  it('rejects an ACME issuer without an email', () => {
    const message = errorFor('onprem', (c) => {
      c.ingress.tls = { kind: 'acme' } as never;
    });
    expect(message).toContain('ingress.tls.email: an ACME issuer needs the email address');
  });

  it('rejects a single HA Postgres instance outside local', () => {
    const message = errorFor('onprem', (c) => {
      c.database = { kind: 'cloudnative-pg', instances: 1, synchronousReplicas: 0 };
    });
    expect(message).toContain('database.instances: HA Postgres needs at least 3 instances outside "local" (got 1)');
    expect(message).toContain('database.synchronousReplicas: synchronous replication needs at least 1');
  });

  it('accepts a single Postgres instance in local', () => {
    expect(validatePlatformConfig('local', inputOf('local')).database).toMatchObject({ instances: 1 });
  });

  it.each([
    ['ghcr.io/mlflow/mlflow:latest', 'uses "latest"'],
    ['ghcr.io/mlflow/mlflow', 'is not pinned'],
    ['localhost:5000/mlflow', 'is not pinned'],
  ])('rejects the unpinned image %s', (image, why) => {
    const message = errorFor('local', (c) => {
      c.images = { ...c.images, trackingServer: image };
    });
    expect(message).toContain(`images.trackingServer: image "${image}" ${why}`);
  });

  it('accepts an image pinned by digest', () => {
    const input = inputOf('local');
    input.images = { ...input.images, controller: `ghcr.io/plinth-dev/controller@sha256:${'a'.repeat(64)}` };
    expect(() => validatePlatformConfig('local', input)).not.toThrow();
  });

  it('rejects backups to a volume artifact store', () => {
    const message = errorFor('onprem', (c) => {
      c.artifacts = { kind: 'volume', claimName: 'artifacts' };
    });
    expect(message).toContain('database.backup.enabled: backups go to the artifact store, which must be "s3" or "gcs"');
  });

  it('rejects a root uid', () => {
    const message = errorFor('onprem', (c) => {
      c.security = { runAsUser: 0 };
    });
    expect(message).toContain('security.runAsUser: must be a non-root uid (1 or more)');
  });

  it('rejects an unknown field, naming it', () => {
    const message = errorFor('onprem', (c) => {
      (c.ingress as Record<string, unknown>)['domian'] = 'typo.example.com';
    });
    expect(message).toContain('ingress: Unrecognized key: "domian"');
  });

  it('rejects an unknown pool role, listing the allowed ones', () => {
    const message = errorFor('onprem', (c) => {
      c.nodePools['tpu'] = { role: 'tpu' } as never;
    });
    expect(message).toContain('nodePools.tpu.role: must be one of "core", "cpu", "gpu"');
  });

  it('rejects an environment without a GPU pool', () => {
    const message = errorFor('onprem', (c) => {
      delete c.nodePools['gpu'];
    });
    expect(message).toContain('nodePools: needs at least one pool with role "gpu"');
  });

  it('rejects a config registered under another name', () => {
    expect(() => validatePlatformConfig('staging', inputOf('onprem'))).toThrow(
      /environment "staging":\n {2}- name: must match the environment it is registered as \("staging"\)/,
    );
  });

  describe('connections', () => {
    it('rejects a connection defined twice', () => {
      const message = errorFor('local', (c) => {
        c.connections = [...c.connections!, { name: 'datasets', env: { DATASETS: '/data' } }];
      });
      expect(message).toContain('connections[3].name: connection "datasets" is defined twice');
    });

    it('rejects a mount over the artifact store or over another connection, naming both', () => {
      const message = errorFor('onprem', (c) => {
        c.connections = [
          { name: 'scratch', volumeClaim: { claimName: 'scratch', mountPath: '/artifacts/scratch' } },
          { name: 'models', configMap: { name: 'models', mountPath: '/etc/plinth' } },
          { name: 'git', secret: { name: 'git-credentials', mountPath: '/etc/plinth/git' } },
        ];
      });
      expect(message).toContain(
        'connections[0].volumeClaim.mountPath: "/artifacts/scratch" overlaps /artifacts, where the artifact store is mounted',
      );
      expect(message).toContain(
        'connections[2].secret.mountPath: "/etc/plinth/git" overlaps /etc/plinth, where connection "models" is mounted',
      );
    });

    it('rejects a connection that gives a run nothing', () => {
      const message = errorFor('local', (c) => {
        c.connections = [{ name: 'empty' }];
      });
      expect(message).toContain(
        'connections[0]: gives a run nothing: set env, secret, configMap, volumeClaim or egress',
      );
    });

    it('rejects bad names, paths and env, each at its field', () => {
      const message = errorFor('local', (c) => {
        c.connections = [
          {
            name: 'Hub',
            env: { PLINTH_RUN: 'x', '1BAD': 'y' },
            secret: { name: 'hub', mountPath: 'relative/path' },
          },
        ];
      });
      expect(message).toContain('connections[0].name: must be a DNS label');
      expect(message).toContain('connections[0].env.PLINTH_RUN: PLINTH_ variables are set by the platform');
      expect(message).toContain('connections[0].env["1BAD"]: must be an environment variable name');
      expect(message).toContain('connections[0].secret.mountPath: must be an absolute path other than "/"');
    });

    it('rejects a team connection that is not defined, listing those that are', () => {
      const message = errorFor('onprem', (c) => {
        c.teams![0]!.connections = ['git', 'warehous'];
      });
      expect(message).toContain(
        'teams[0].connections[1]: connection "warehous" is not defined; defined: datasets, git, warehouse',
      );
    });

    it('rejects egress without ports, or to what is not a port or a CIDR, each at its field', () => {
      const message = errorFor('onprem', (c) => {
        c.connections = [
          { name: 'warehouse', egress: { ports: [5432, 70000], to: ['10.20.0.0/16', '10.20.0.1'] } },
          { name: 'cache', egress: { ports: [] } },
        ];
      });
      expect(message).toContain('connections[0].egress.ports[1]: must be a port from 1 to 65535');
      expect(message).toContain('connections[0].egress.to[1]: must be a CIDR such as "10.20.0.0/16"');
      expect(message).toContain('connections[1].egress.ports: must list at least one port');
      expect(message.split('\n  - ')).toHaveLength(4);
    });
  });

  describe('the artifact store address', () => {
    const s3 = (c: PlatformConfigInput) => {
      if (c.artifacts.kind !== 's3') throw new Error('expected an S3 store');
      return c.artifacts;
    };

    it('refuses an endpoint named by an outside host without the CIDRs it resolves into, saying what to give', () => {
      const message = errorFor('onprem', (c) => {
        delete s3(c).egressCidrs;
      });
      expect(message).toContain(
        'artifacts.egressCidrs: the endpoint\'s host "s3.storage.internal" is neither an in-cluster Service (<service>.<namespace>.svc) nor an IP, and a NetworkPolicy cannot name a host: list the CIDRs its addresses are in, such as ["10.30.0.0/24"]',
      );
      expect(message.split('\n  - ')).toHaveLength(2);
    });

    it.each(['http://minio.storage.svc:9000', 'https://minio.storage.svc.cluster.local', 'http://10.30.0.9:9000'])(
      'derives the address of %s',
      (endpoint) => {
        const input = inputOf('onprem');
        s3(input).endpoint = endpoint;
        delete s3(input).egressCidrs;
        expect(() => validatePlatformConfig('onprem', input)).not.toThrow();
      },
    );

    it('refuses CIDRs that cover every address, or none at all', () => {
      const message = errorFor('onprem', (c) => {
        s3(c).egressCidrs = ['10.30.0.0/24', '0.0.0.0/0', '::/0', 's3.storage.internal'];
      });
      expect(message).toContain('artifacts.egressCidrs[1]: covers every address, which names nothing');
      expect(message).toContain('artifacts.egressCidrs[2]: covers every address');
      expect(message).toContain('artifacts.egressCidrs[3]: must be a CIDR such as "10.20.0.0/16"');
      expect(errorFor('onprem', (c) => (s3(c).egressCidrs = []))).toContain(
        'artifacts.egressCidrs: must list at least one CIDR',
      );
    });
  });

  describe("the platform's own store (artifacts.server)", () => {
    const s3 = (c: PlatformConfigInput) => {
      if (c.artifacts.kind !== 's3') throw new Error('local stores artifacts in S3');
      return c.artifacts;
    };

    it('takes only its own Service as the endpoint, naming the one allowed', () => {
      const expected =
        'artifacts.endpoint: must be "http://object-store.plinth.svc:9000" with artifacts.server: the platform serves its store at that Service';
      expect(errorFor('local', (c) => (s3(c).endpoint = 'http://minio.plinth.svc:9000'))).toContain(
        `${expected} (got "http://minio.plinth.svc:9000")`,
      );
      expect(errorFor('local', (c) => delete s3(c).endpoint)).toContain(`${expected} (got none)`);
      // The Service is in the platform namespace, whatever it is named.
      expect(errorFor('local', (c) => (c.namespace = 'ml'))).toContain(
        'artifacts.endpoint: must be "http://object-store.ml.svc:9000"',
      );
    });

    it('refuses CIDRs and a workload identity, which a store of the platform has no use for', () => {
      const message = errorFor('local', (c) => {
        s3(c).egressCidrs = ['10.30.0.0/24'];
        s3(c).credentials = {
          workloadIdentity: { roleArn: 'arn:aws:iam::1:role/t', teamRoleArns: {}, logArchiveRoleArn: 'arn:logs' },
        };
      });
      expect(message).toContain('artifacts.egressCidrs: must be left out with artifacts.server');
      expect(message).toContain('artifacts.credentials: must be { secret: { name } } with artifacts.server');
    });

    it('defaults its claim to 10Gi and its root Secret to object-store-admin', () => {
      const input = inputOf('local');
      s3(input).server = {};
      const config = validatePlatformConfig('local', input);
      if (config.artifacts.kind !== 's3') throw new Error('local stores artifacts in S3');
      expect(config.artifacts.server).toMatchObject({ storage: { size: '10Gi' }, rootSecret: 'object-store-admin' });
      expect(config.artifacts.server?.storage.storageClass).toBeUndefined();
    });
  });

  describe("each team's workload identity", () => {
    it('refuses a store identity without one for every team, or with one for a team that does not exist', () => {
      const message = errorFor('local', (c) => {
        c.artifacts = {
          kind: 's3',
          bucket: 'ml-artifacts',
          region: 'us-east-1',
          credentials: {
            workloadIdentity: {
              roleArn: 'arn:tracking',
              teamRoleArns: { vision: 'arn:v', cv: 'arn:c' },
              logArchiveRoleArn: 'arn:logs',
            },
          },
        };
      });
      expect(message).toContain(
        'artifacts.credentials.workloadIdentity.teamRoleArns.nlp: team "nlp" needs an IAM role ARN of its own, which only its runs\' accounts may use',
      );
      expect(message).toContain(
        'artifacts.credentials.workloadIdentity.teamRoleArns.cv: "cv" is not a team; defined: vision, nlp',
      );
      expect(message.split('\n  - ')).toHaveLength(3);
    });

    it('asks the same of GCS', () => {
      const message = errorFor('local', (c) => {
        c.artifacts = {
          kind: 'gcs',
          bucket: 'ml-artifacts',
          credentials: {
            workloadIdentity: {
              serviceAccount: 'tracking@ml.iam.gserviceaccount.com',
              teamServiceAccounts: { vision: 'vision@ml.iam.gserviceaccount.com' },
            },
          },
        };
      });
      expect(message).toContain(
        'artifacts.credentials.workloadIdentity.teamServiceAccounts.nlp: team "nlp" needs a Google service account of its own',
      );
    });
  });

  it('lists every problem at once', () => {
    const message = errorFor('onprem', (c) => {
      c.teams![0]!.quota.gpu = -2;
      c.runs = { defaultPool: 'nope' };
    });
    expect(message.split('\n  - ')).toHaveLength(3);
  });
});
