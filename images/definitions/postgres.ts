import { PLATFORM_ID } from '../../model/config/schema.js';
import type { ImageDefinition } from '../definition.js';

/** Debian 12's PostgreSQL major version: the version the ImageCatalog declares for this image. */
export const POSTGRES_MAJOR = 15;

/**
 * CloudNativePG's Postgres operand: Debian's PostgreSQL with its server programs on PATH, as the
 * operator's instance manager runs them (initdb, postgres, pg_ctl, pg_basebackup, pg_rewind), and
 * Barman's cloud client for the backups to the artifact store that `database.backup` turns on.
 */
export const postgres: ImageDefinition = {
  name: 'postgres',
  base: { kind: 'debian', packages: [`postgresql-${POSTGRES_MAJOR}`, 'barman-cli-cloud', 'python3-boto3'] },
  steps: [],
  // The platform's Cluster runs Postgres as the platform's uid (constructs/database.ts), which
  // initdb must find in /etc/passwd: Debian's postgres account is moved there.
  user: { uid: PLATFORM_ID, gid: PLATFORM_ID, account: 'postgres' },
  env: {
    PATH: `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    LANG: 'C.UTF-8',
  },
  entrypoint: [],
  cmd: ['postgres'],
  workdir: '/',
  inputs: [],
};
