import { describe, expect, it } from 'vitest';
import { find, inputOf, objectsOf, ofKind, renderInput } from '../support/platform.js';

describe('monitoring', () => {
  it('scrapes the controller and the tracking server when enabled', () => {
    const objects = objectsOf('onprem');
    const monitors = ofKind(objects, 'ServiceMonitor') as unknown as {
      metadata: { name: string };
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    }[];
    expect(
      monitors.map((m) => [
        m.metadata.name,
        m.spec.selector.matchLabels['app.kubernetes.io/name'],
        m.spec.endpoints[0]?.port,
      ]),
    ).toEqual([
      ['controller', 'controller', 'metrics'],
      ['tracking', 'tracking', 'http'],
    ]);
  });

  it('alerts when the controller is down or runs stay pending too long', () => {
    const rule = find(objectsOf('onprem'), 'PrometheusRule', 'plinth-alerts', 'plinth') as unknown as {
      spec: { groups: { rules: { alert: string; expr: string }[] }[] };
    };
    const alerts = rule.spec.groups.flatMap((g) => g.rules);
    expect(alerts.map((a) => a.alert)).toEqual(['PlinthControllerDown', 'PlinthRunsPendingTooLong']);
    expect(alerts[1]?.expr).toBe('max by (namespace) (plinth_run_oldest_pending_seconds) > 1800');
  });

  it('emits nothing for Prometheus when disabled', () => {
    const input = inputOf('onprem');
    input.monitoring = { enabled: false };
    const objects = renderInput(input);
    expect(objects.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com'))).toEqual([]);
  });
});
