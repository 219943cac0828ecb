import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** Prometheus metrics on /metrics, and /healthz and /readyz for the kubelet, on their own ports. */
export function startHttpServers(options: {
  host: string;
  metricsPort: number;
  healthPort: number;
  registry: Registry;
  ready: () => boolean;
}): Server[] {
  const metrics = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    options.registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': options.registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  const health = createServer((req, res) => {
    if (req.url === '/healthz') return void res.writeHead(200).end('ok');
    if (req.url === '/readyz')
      return void res.writeHead(options.ready() ? 200 : 503).end(options.ready() ? 'ok' : 'not ready');
    res.writeHead(404).end();
  });
  metrics.listen(options.metricsPort, options.host);
  health.listen(options.healthPort, options.host);
  return [metrics, health];
}
