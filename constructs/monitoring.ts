import { Construct } from 'constructs';
import { CONTROLLER_METRICS } from '../controller/api/metrics.js';
import type { PlatformConfig } from '../model/config/schema.js';
import { CONTROLLER_COMPONENT, TRACKING_COMPONENT } from '../model/names.js';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from './imports/prometheus-rule-monitoring.coreos.com.js';
import { ServiceMonitor } from './imports/prometheus-servicemonitor-monitoring.coreos.com.js';
import { componentLabels, selectorLabels } from '../model/labels.js';

export const MONITORING_COMPONENT = 'monitoring';

export interface MonitoringProps {
  readonly config: PlatformConfig;
}

/** Scrape targets for the controller and tracking server, and alerts for a dead controller or stuck runs. */
export class Monitoring extends Construct {
  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config } = props;
    if (!config.monitoring.enabled) return;
    const labels = componentLabels(config.name, MONITORING_COMPONENT);

    const scrape = (component: string, port: string, path: string) =>
      new ServiceMonitor(this, `${component}-monitor`, {
        metadata: { name: component, namespace: config.namespace, labels },
        spec: {
          selector: { matchLabels: selectorLabels(component) },
          namespaceSelector: { matchNames: [config.namespace] },
          endpoints: [{ port, path, interval: '30s' }],
        },
      });
    scrape(CONTROLLER_COMPONENT, 'metrics', '/metrics');
    scrape(TRACKING_COMPONENT, 'http', '/metrics');

    const pendingSeconds = config.monitoring.pendingRunAlertMinutes * 60;
    new PrometheusRule(this, 'alerts', {
      metadata: { name: 'plinth-alerts', namespace: config.namespace, labels },
      spec: {
        groups: [
          {
            name: 'plinth.controller',
            rules: [
              {
                alert: 'PlinthControllerDown',
                expr: PrometheusRuleSpecGroupsRulesExpr.fromString(
                  `absent(up{namespace="${config.namespace}",service="${CONTROLLER_COMPONENT}"} == 1)`,
                ),
                for: '5m',
                labels: { severity: 'critical' },
                annotations: {
                  summary: 'The Plinth controller is down: no run is being started, stopped or updated.',
                },
              },
              {
                alert: 'PlinthRunsPendingTooLong',
                expr: PrometheusRuleSpecGroupsRulesExpr.fromString(
                  `max by (namespace) (${CONTROLLER_METRICS.oldestPendingSeconds}) > ${pendingSeconds}`,
                ),
                for: '5m',
                labels: { severity: 'warning' },
                annotations: {
                  summary: `A run in {{ $labels.namespace }} has been pending for more than ${config.monitoring.pendingRunAlertMinutes} minutes.`,
                  description: 'Check the run status reason: quota, an untolerated taint or missing GPU capacity.',
                },
              },
            ],
          },
        ],
      },
    });
  }
}
