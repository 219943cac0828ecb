import type { V1Container, V1EnvVar } from '@kubernetes/client-node';
import { RUN_OUTPUTS } from '../../model/run-outputs.js';
import { RUN_SCRATCH } from '../../model/run-scratch.js';
import { RESTORED_LIST } from './outputs-restore.js';
import { S3_CLIENT } from './store-client-script.js';
import { PLATFORM_CONTAINER_PREFIX } from '../api/container.js';
import type { PlatformDefaults } from '../api/platform-defaults.js';
import { platformStep } from './platform-step.js';

/**
 * The platform's sidecar in every run pod of an S3 store, which copies PLINTH_RUN_OUTPUTS_PATH to
 * PLINTH_RUN_OUTPUTS_URI: every SYNC_SECONDS while the run runs, and once more when the kubelet stops
 * it, which it does for a native sidecar (an init container that restarts always) only after the
 * run's own containers have exited. So a file written at a script's last line is kept, and a
 * checkpoint written mid-run is in the store even if the node goes. It uses the team's credential,
 * which the run's own containers have already, and the `init` image's boto3, which uploads a large
 * file in parts. A file is copied again only when its size or modification time changed.
 */
export const OUTPUTS_SYNC_NAME = `${PLATFORM_CONTAINER_PREFIX}outputs`;

/** How often the outputs are copied while the run runs. */
export const SYNC_SECONDS = 10;

const SCRIPT = [
  // The handler first: a run that ends at once stops the sidecar while boto3 still loads, and the
  // last copy must still happen.
  'import signal',
  'stopping = False',
  'def stop(*_):',
  '    global stopping',
  '    stopping = True',
  'signal.signal(signal.SIGTERM, stop)',
  'import json, os, sys, time, boto3',
  `root = os.environ["${RUN_OUTPUTS.pathEnv}"]`,
  `bucket, _, prefix = os.environ["${RUN_OUTPUTS.uriEnv}"].removeprefix("s3://").partition("/")`,
  ...S3_CLIENT,
  'copied = {}',
  // What a resumed run's restore step put there is in the store already.
  'try:',
  `    with open("${RESTORED_LIST}") as f:`,
  '        copied = {path: tuple(mark) for path, mark in json.load(f).items()}',
  'except FileNotFoundError:',
  '    pass',
  'def sync():',
  '    for folder, _, files in os.walk(root):',
  '        for name in files:',
  '            path = os.path.join(folder, name)',
  '            try:',
  '                stat = os.stat(path)',
  '            except FileNotFoundError:',
  '                continue',
  '            mark = (stat.st_size, stat.st_mtime_ns)',
  '            if copied.get(path) == mark:',
  '                continue',
  '            key = prefix + "/" + os.path.relpath(path, root)',
  '            s3.upload_file(path, bucket, key)',
  '            copied[path] = mark',
  '            print("copied", key, flush=True)',
  'while True:',
  // Stopped during a copy, which may have listed a folder before the run's last files: once more.
  '    last = stopping',
  '    try:',
  '        sync()',
  '    except Exception as error:',
  '        print("copying the outputs failed, trying again:", error, flush=True)',
  '    if last:',
  '        sys.exit(0)',
  `    for _ in range(${SYNC_SECONDS * 10}):`,
  '        if stopping:',
  '            break',
  '        time.sleep(0.1)',
].join('\n');

/** The sidecar, under the run containers' security floor, with the team's store env and the outputs read-only. */
export function outputsSync(defaults: PlatformDefaults, env: V1EnvVar[]): V1Container {
  return platformStep(defaults, OUTPUTS_SYNC_NAME, SCRIPT, {
    // A native sidecar: it runs beside the run's containers, and is stopped after them.
    restartPolicy: 'Always',
    env,
    volumeMounts: [
      { name: RUN_OUTPUTS.volume, mountPath: RUN_OUTPUTS.mountPath, readOnly: true },
      // Where a resumed run's restore step lists what the store has already (outputs-restore.ts).
      { name: RUN_SCRATCH.volume, mountPath: RUN_SCRATCH.mountPath, readOnly: true },
    ],
    // A sidecar's limits add to the run's own in the team's quota (a namespace's LimitRange would give
    // it a whole CPU): a tenth of one copies a checkpoint at the store's pace, mostly waiting on it.
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '128Mi' } },
  });
}
