/**
 * Every run container's writable scratch space at /tmp. The security floor makes the root
 * filesystem read-only, yet Python, pip, MLflow's client (which stages artifacts in a temporary
 * folder) and most ML libraries write temporary files. Bounded, so a run cannot fill its node's
 * disk, and gone with the pod.
 */
export const RUN_SCRATCH = { volume: 'plinth-scratch', mountPath: '/tmp', sizeLimit: '1Gi' } as const;
