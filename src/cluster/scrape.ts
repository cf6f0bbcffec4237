import { AggregatorRegistry, type Registry } from 'prom-client'
import type { MetricsSource } from '../admin/server.js'

/**
 * The primary's `/metrics` with several workers (docs/scaling.md): it asks every worker for its
 * registry as JSON over the cluster IPC channel and adds them up with prom-client's
 * `AggregatorRegistry.aggregate` (counters and histogram buckets summed; each default process
 * metric by the aggregator prom-client gives it). prom-client's own `clusterMetrics()` only
 * reaches the global registry and fails the whole scrape when one worker is slow; the gateway
 * keeps its metrics on a per-instance registry (src/metrics/metrics.ts), and a worker that does
 * not answer in time (just forked, or stuck) is left out of that scrape instead.
 */

const METRICS_REQUEST = 'metrics-request'
const METRICS_REPLY = 'metrics-reply'

interface MetricsReply {
  aauth: typeof METRICS_REPLY
  id: number
  metrics?: unknown[]
}

/** The primary's side of a worker's channel, as far as a scrape needs it. */
export interface ScrapedWorker {
  isConnected(): boolean
  send(message: unknown): boolean
  on(event: 'message', listener: (message: unknown) => void): unknown
  off(event: 'message', listener: (message: unknown) => void): unknown
}

/** Worker side: answers the primary's requests with `registry`'s metrics. Returns a stop function. */
export function answerMetricsRequests(registry: Registry): () => void {
  const onMessage = (message: unknown): void => {
    const m = message as { aauth?: unknown; id?: unknown }
    if (m.aauth !== METRICS_REQUEST || typeof m.id !== 'number') return
    const id = m.id
    registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ aauth: METRICS_REPLY, id, metrics } satisfies MetricsReply),
      () => process.send?.({ aauth: METRICS_REPLY, id } satisfies MetricsReply),
    )
  }
  process.on('message', onMessage)
  return () => void process.off('message', onMessage)
}

let nextId = 1

/** Asks each worker for its metrics; resolves what came back within `timeoutMs`. */
export function scrapeWorkers(workers: readonly ScrapedWorker[], timeoutMs: number): Promise<unknown[][]> {
  const id = nextId++
  const asked = workers.filter((w) => w.isConnected())
  const answers: unknown[][] = []
  return new Promise((resolve) => {
    let open = asked.length
    const listeners = new Map<ScrapedWorker, (message: unknown) => void>()
    const finish = (): void => {
      clearTimeout(timer)
      for (const [w, l] of listeners) w.off('message', l)
      resolve(answers)
    }
    const timer = setTimeout(finish, timeoutMs)
    for (const w of asked) {
      const onMessage = (message: unknown): void => {
        const m = message as Partial<MetricsReply>
        if (m.aauth !== METRICS_REPLY || m.id !== id) return
        w.off('message', onMessage)
        listeners.delete(w)
        if (Array.isArray(m.metrics)) answers.push(m.metrics)
        if (--open === 0) finish()
      }
      listeners.set(w, onMessage)
      w.on('message', onMessage)
      w.send({ aauth: METRICS_REQUEST, id })
    }
    if (open === 0) finish()
  })
}

/** `/metrics` of the primary: every worker's metrics added up, then the primary's own (`own`). */
export function clusterMetricsSource(workers: () => readonly ScrapedWorker[], own: Registry, timeoutMs = 2000): MetricsSource {
  return {
    contentType: own.contentType,
    async metrics(): Promise<string> {
      const parts = await scrapeWorkers(workers(), timeoutMs)
      parts.push(await own.getMetricsAsJSON())
      return AggregatorRegistry.aggregate(parts as object[]).metrics()
    },
  }
}
