import { PLATFORM_ID } from '../../model/config/schema.js';
import type { ImageDefinition } from '../definition.js';

/** The runtime of runs written in Python: Debian's python3, the MLflow client and the common numeric stack. */
export const python: ImageDefinition = {
  name: 'python',
  base: { kind: 'debian', packages: ['python3', 'python3-pip'] },
  steps: [
    {
      kind: 'pip',
      // mlflow-skinny is MLflow's client without the server; it matches the tracking image's MLflow.
      requirements: ['mlflow-skinny==3.17.2', 'numpy==2.4.6', 'scikit-learn==1.9.1', 'boto3==1.44.18'],
      lock: 'images/definitions/python.lock.txt',
    },
  ],
  user: { uid: PLATFORM_ID, gid: PLATFORM_ID, account: 'plinth' },
  // A run's prints reach its log as they happen, not when a buffer fills.
  env: { PYTHONUNBUFFERED: '1', LANG: 'C.UTF-8' },
  entrypoint: [],
  cmd: ['python3'],
  // Relative paths land in the pod's writable /tmp: the root filesystem is read-only.
  workdir: '/tmp',
  inputs: [],
};
