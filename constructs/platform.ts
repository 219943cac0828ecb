import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import type { PlatformConfig } from '../model/config/schema.js';
import { ControllerDeployment } from './controller-deployment.js';
import { Database } from './database.js';
import { PlatformIngress } from './ingress.js';
import { Monitoring } from './monitoring.js';
import { ObjectStore } from './object-store.js';
import { PlatformNamespace } from './platform-namespace.js';
import { TeamRoles } from './rbac.js';
import { StoreExpiry } from './store-expiry.js';
import { StoreUsers } from './store-users.js';
import { TeamAdminGuard } from './team-admin-guard.js';
import { TeamNamespace } from './team-namespace.js';
import { TrackingServer } from './tracking-server.js';

export interface PlatformProps {
  /** A validated config: see validatePlatformConfig. */
  readonly config: PlatformConfig;
  /**
   * A digest of the store's keys, where the deployer knows them (`pulumi up`): the platform's own
   * store's users are made again whenever it changes. Synth leaves it out.
   */
  readonly storeKeysRevision?: string;
}

/**
 * The whole platform for one environment, one chart per concern. Chart ids are numbered so the
 * files sort in apply order: namespaces and CRDs before what lives in them.
 */
export class Platform extends Construct {
  readonly charts: Chart[] = [];

  constructor(scope: App, id: string, props: PlatformProps) {
    super(scope, id);
    const { config } = props;
    const chart = (chartId: string, build: (c: Chart) => void) => {
      const c = new Chart(this, chartId, { disableResourceNameHashes: true });
      build(c);
      this.charts.push(c);
    };

    chart('00-namespace', (c) => new PlatformNamespace(c, 'platform', { config }));
    chart('10-rbac', (c) => {
      new TeamRoles(c, 'team-roles', { config });
      // Before the team namespaces, so that no team admin binding exists before the guard does.
      new TeamAdminGuard(c, 'team-admin-guard', { config });
    });
    chart('20-teams', (c) => {
      for (const team of config.teams) new TeamNamespace(c, team.name, { config, team });
    });
    // Before the database and tracking, which keep their backups and artifacts there.
    const store = config.artifacts;
    if (store.kind === 's3' && store.server) {
      chart('25-object-store', (c) => {
        new ObjectStore(c, 'object-store', { config });
        new StoreUsers(c, 'store-users', { config, keysRevision: props.storeKeysRevision });
        new StoreExpiry(c, 'store-expiry', { config });
      });
    }
    chart('30-database', (c) => new Database(c, 'database', { config }));
    chart('40-controller', (c) => new ControllerDeployment(c, 'controller', { config }));
    chart('50-tracking', (c) => new TrackingServer(c, 'tracking', { config }));
    chart('60-ingress', (c) => new PlatformIngress(c, 'ingress', { config }));
    chart('70-monitoring', (c) => new Monitoring(c, 'monitoring', { config }));
  }
}

/** One chart's objects, in emission order. */
export interface RenderedChart {
  readonly name: string;
  readonly objects: Record<string, unknown>[];
}

/** Builds the platform in memory: what synth writes and what Pulumi deploys. Empty charts are left out. */
export function renderPlatform(
  config: PlatformConfig,
  options: Pick<PlatformProps, 'storeKeysRevision'> = {},
): RenderedChart[] {
  const platform = new Platform(new App(), 'platform', { config, ...options });
  return platform.charts
    .map((chart) => ({ name: chart.node.id, objects: chart.toJson() as Record<string, unknown>[] }))
    .filter((chart) => chart.objects.length > 0);
}
