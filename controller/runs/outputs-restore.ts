import type { V1Container, V1EnvVar } from '@kubernetes/client-node';
import { RUN_OUTPUTS } from '../../model/run-outputs.js';
import { RUN_SCRATCH } from '../../model/run-scratch.js';
import { PLATFORM_CONTAINER_PREFIX } from '../api/container.js';
import type { PlatformDefaults } from '../api/platform-defaults.js';
import { platformStep } from './platform-step.js';
import type { OutputsSource } from './outputs-source.js';
import { S3_CLIENT } from './store-client-script.js';

/**
 * The init container of a run that resumes an earlier run or starts with a copy of its outputs
 * (spec.resumeFrom, spec.copyFrom): before the run's own containers start, it fills
 * PLINTH_RUN_OUTPUTS_PATH with the earlier run's outputs, with the team's credential, which reaches
 * only the team's prefix. It fails, saying so, when there is nothing there. For a resumed run it
 * leaves the sidecar a list of what it restored (RESTORED_LIST), so that the sidecar does not copy
 * back what the store has; a copy's files are all new to its own prefix.
 */
export const OUTPUTS_RESTORE_NAME = `${PLATFORM_CONTAINER_PREFIX}restore`;

/** In the run's scratch space, which the restore step and the sidecar share. */
export const RESTORED_LIST = `${RUN_SCRATCH.mountPath}/.plinth-restored.json`;

const SOURCE_ENV = 'PLINTH_OUTPUTS_SOURCE_URI';

const SCRIPT = [
  'import json, os, sys, boto3',
  `root = os.environ["${RUN_OUTPUTS.pathEnv}"]`,
  `source = os.environ["${SOURCE_ENV}"]`,
  'bucket, _, prefix = source.removeprefix("s3://").partition("/")',
  ...S3_CLIENT,
  'restored = {}',
  'for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):',
  '    for item in page.get("Contents", []):',
  '        path = os.path.join(root, item["Key"][len(prefix) + 1:])',
  '        os.makedirs(os.path.dirname(path), exist_ok=True)',
  '        s3.download_file(bucket, item["Key"], path)',
  '        stat = os.stat(path)',
  '        restored[path] = [stat.st_size, stat.st_mtime_ns]',
  'if not restored:',
  '    print(f"no outputs at {source}: the earlier run kept none, or they have expired", file=sys.stderr)',
  '    sys.exit(1)',
  'if sys.argv[1] == "resume":',
  `    with open("${RESTORED_LIST}", "w") as f:`,
  '        json.dump(restored, f)',
  'print(f"restored {len(restored)} file(s) from {source}")',
].join('\n');

/** The restore step, under the run containers' security floor, with the team's store env. */
export function outputsRestore(
  defaults: PlatformDefaults,
  source: OutputsSource,
  sourceUri: string,
  env: V1EnvVar[],
): V1Container {
  return platformStep(defaults, OUTPUTS_RESTORE_NAME, SCRIPT, {
    args: [source.mode],
    env: [...env, { name: SOURCE_ENV, value: sourceUri }],
    // Its last words are the run's failure message when there was nothing to restore.
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [
      { name: RUN_OUTPUTS.volume, mountPath: RUN_OUTPUTS.mountPath },
      { name: RUN_SCRATCH.volume, mountPath: RUN_SCRATCH.mountPath },
    ],
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '256Mi' } },
  });
}
