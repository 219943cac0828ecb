import { PLATFORM_ID } from '../../model/config/schema.js';
import type { ImageDefinition } from '../definition.js';

/**
 * The tracking server: MLflow with what the platform runs it with, `mlflow server` against
 * Postgres (psycopg2), artifacts in S3 (boto3) and `--expose-prometheus` (prometheus-flask-exporter).
 */
export const tracking: ImageDefinition = {
  name: 'tracking',
  base: { kind: 'debian', packages: ['python3', 'python3-pip'] },
  steps: [
    {
      kind: 'pip',
      requirements: [
        'mlflow==3.17.2',
        'psycopg2-binary==2.9.13',
        'boto3==1.44.18',
        'prometheus-flask-exporter==0.23.2',
      ],
      lock: 'images/definitions/tracking.lock.txt',
    },
  ],
  user: { uid: PLATFORM_ID, gid: PLATFORM_ID, account: 'plinth' },
  env: { PYTHONUNBUFFERED: '1', LANG: 'C.UTF-8' },
  entrypoint: ['mlflow'],
  cmd: ['server'],
  // Relative paths land in the pod's writable /tmp: the root filesystem is read-only.
  workdir: '/tmp',
  inputs: [],
};
