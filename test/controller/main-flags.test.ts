import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { controllerArgs } from '../support/controller.js';

// Each case starts the controller through tsx: seconds alone, more beside the other test files.
const SPAWN_TIMEOUT_MS = 60_000;

/** The controller's exit code and fatal log line for some flags; they are checked before any cluster is needed. */
function runWith(...flags: string[]) {
  const result = spawnSync(process.execPath, controllerArgs(flags), {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: '/nonexistent' },
    timeout: SPAWN_TIMEOUT_MS,
  });
  const fatal = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { level: string; err?: { message: string; stack: string } })
    .find((line) => line.level === 'fatal');
  return { status: result.status, error: fatal?.err?.message, stack: fatal?.err?.stack };
}

describe('the controller flags', () => {
  it.each([
    ['--workers=0', '--workers must be a whole number of at least 1, not "0"'],
    ['--resync-seconds=1.5', '--resync-seconds must be a whole number of at least 1, not "1.5"'],
    ['--metrics-port=http', '--metrics-port must be a whole number of at least 0, not "http"'],
  ])(
    'rejects %s, naming the flag and what it allows',
    (flag, message) => {
      // The error is logged with its stack, which says where the controller gave up.
      expect(runWith(flag)).toEqual({ status: 1, error: message, stack: expect.stringContaining('main.ts') });
    },
    SPAWN_TIMEOUT_MS,
  );
});
