import type { PlatformConfig } from './config/schema.js';
import type { Team } from './config/teams.js';

/**
 * Kubernetes' own priority classes, above any a platform may define: a pod of either preempts
 * anything, so no team may use them (the team quota refuses their pods).
 */
export const SYSTEM_PRIORITY_CLASSES = ['system-cluster-critical', 'system-node-critical'] as const;

/** The priority classes a team's runs may name: its own list, or every run class of the platform. */
export function teamPriorityClasses(config: PlatformConfig, team: Team): string[] {
  const all = config.runs.priorityClasses.map((c) => c.name);
  return team.priorityClasses ?? all;
}
