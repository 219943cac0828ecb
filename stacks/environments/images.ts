/** Pinned images shared by every environment unless one overrides them. */
export const PINNED_IMAGES = {
  controller: 'ghcr.io/plinth-dev/controller:0.1.0',
  trackingServer: 'ghcr.io/mlflow/mlflow:v2.22.1',
  postgres: 'ghcr.io/cloudnative-pg/postgresql:17.5',
} as const;
