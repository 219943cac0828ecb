import packageJson from '../package.json' with { type: 'json' };

/**
 * The platform's version, the package's: what each run's status and MLflow run record of the
 * platform that made its workload.
 */
export const PLATFORM_VERSION: string = packageJson.version;
