import type { V1Pod } from '@kubernetes/client-node';
import { OUTPUTS_LIMIT_CHARS } from '../api/run.js';
import { MAIN_CONTAINER } from './pod-template.js';
import { newestFirst } from './pod-order.js';

export type RunOutputs = Record<string, unknown>;

/**
 * What a run reports of its results (README, Outputs): the JSON object its main container wrote to
 * its termination message (`/dev/termination-log`) as it exited, from the newest pod where it did.
 * A message that is no JSON object (the last log lines of a container that failed with
 * FallbackToLogsOnError, say) reports nothing; nor does one past OUTPUTS_LIMIT_CHARS, which the
 * kubelet's own 4 KiB cap on the message keeps from happening anyway.
 */
export function reportedOutputs(pods: readonly V1Pod[]): RunOutputs | undefined {
  for (const pod of newestFirst(pods)) {
    const main = pod.status?.containerStatuses?.find((c) => c.name === MAIN_CONTAINER);
    const message = main?.state?.terminated?.message ?? main?.lastState?.terminated?.message;
    if (message === undefined) continue;
    return outputsOf(message);
  }
  return undefined;
}

/** A JSON object within the limit, or undefined. */
export function outputsOf(message: string): RunOutputs | undefined {
  const text = message.trim();
  if (!text.startsWith('{') || text.length > OUTPUTS_LIMIT_CHARS) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as RunOutputs) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The run's outputs with the MLflow run's latest metrics under the names the run did not report
 * itself, as many as fit within the limit, in name order.
 */
export function withMetrics(reported: RunOutputs | undefined, metrics: Readonly<Record<string, number>>): RunOutputs {
  const outputs: RunOutputs = { ...reported };
  for (const name of Object.keys(metrics).sort()) {
    if (name in outputs) continue;
    const next = { ...outputs, [name]: metrics[name] };
    if (JSON.stringify(next).length <= OUTPUTS_LIMIT_CHARS) Object.assign(outputs, { [name]: metrics[name] });
  }
  return outputs;
}
