import type { V1Container } from '@kubernetes/client-node';
import { PLATFORM_CONTAINER_PREFIX } from '../api/container.js';
import type { PlatformDefaults } from '../api/platform-defaults.js';
import { platformStep } from './platform-step.js';

/**
 * The platform's first init container in every run pod, which holds the run's own containers until
 * the pod's network is in place. A NetworkPolicy agent that learns pod addresses from the API
 * server (kube-router here) admits a new pod to the services its policies allow only once the
 * kubelet has reported the pod's address, which came after the pod's first container had started. On the local real nodes that took 1.4 to 1.6 s, in which the
 * tracking server and the store refused the run: a script that logs or reads data at its first
 * line failed. The gate waits until the tracking server, which every team's runs may reach,
 * accepts a connection; the agent has admitted the pod by then.
 */
export const NETWORK_GATE_NAME = `${PLATFORM_CONTAINER_PREFIX}network`;

/**
 * How long the gate waits before it lets the run start anyway: a tracking server that is down
 * delays runs, and never stops those that do not need it.
 */
export const NETWORK_GATE_TIMEOUT_SECONDS = 30;

const SCRIPT = [
  'import os, socket, sys, time, urllib.parse',
  'uri = urllib.parse.urlsplit(os.environ["MLFLOW_TRACKING_URI"])',
  'address = (uri.hostname, uri.port or (443 if uri.scheme == "https" else 80))',
  `deadline = time.monotonic() + ${NETWORK_GATE_TIMEOUT_SECONDS}`,
  'while True:',
  '    try:',
  '        socket.create_connection(address, timeout=1).close()',
  '        sys.exit(0)',
  '    except OSError as error:',
  '        if time.monotonic() > deadline:',
  '            print(f"the tracking server {address[0]}:{address[1]} is not reachable ({error}); starting anyway")',
  '            sys.exit(0)',
  '        time.sleep(0.1)',
].join('\n');

/** The gate's container, under the run containers' security floor, asking for next to nothing. */
export function networkGate(defaults: PlatformDefaults): V1Container {
  return platformStep(defaults, NETWORK_GATE_NAME, SCRIPT, {
    env: [{ name: 'MLFLOW_TRACKING_URI', value: defaults.tracking.uri }],
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } },
  });
}
