/**
 * The ServiceAccount runs use in every team namespace: no RBAC bindings and no token, so a run
 * cannot touch the API. Named here, apart from the constructs, for the controller and policies.
 */
export const RUN_SERVICE_ACCOUNT = 'plinth-run';
