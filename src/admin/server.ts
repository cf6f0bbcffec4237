import { createServer, type Server } from 'node:http'

/**
 * What `/metrics` serves: a prom-client `Registry` (one process), or the sum of every worker's
 * (the cluster primary, docs/scaling.md).
 */
export interface MetricsSource {
  readonly contentType: string
  metrics(): Promise<string>
}

/**
 * The admin listener (docs/metrics.md, docs/operations.md): `/healthz` (the process is up), `/readyz` (a config is
 * loaded and the proxy listener accepts connections), `/metrics` (Prometheus text format).
 * Kept off the proxy listener so it can stay on loopback.
 */
export function createAdminServer(metrics: MetricsSource, isReady: () => boolean): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
    } else if (path === '/readyz') {
      const ready = isReady()
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n')
    } else if (path === '/metrics') {
      metrics.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        () => res.writeHead(500).end(),
      )
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
    }
  })
}
