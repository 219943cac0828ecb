import { APP_LABELS, MANAGED_BY, PART_OF, PLINTH_LABELS } from '../../model/labels.js';

/** Labels every child of a run carries; `plinth.dev/run` is how informers map children back. */
export function runLabels(runName: string, team: string): Record<string, string> {
  return {
    [APP_LABELS.name]: 'run',
    [APP_LABELS.instance]: runName,
    [APP_LABELS.component]: 'run',
    [APP_LABELS.partOf]: PART_OF,
    [APP_LABELS.managedBy]: MANAGED_BY,
    [PLINTH_LABELS.run]: runName,
    [PLINTH_LABELS.team]: team,
  };
}

/** Selects the pods of one run. */
export function runSelector(runName: string): Record<string, string> {
  return { [PLINTH_LABELS.run]: runName };
}
