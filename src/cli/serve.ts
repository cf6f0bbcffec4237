import cluster from 'node:cluster'
import { startPrimary } from '../cluster/primary.js'
import { runWorker } from '../cluster/worker.js'
import { buildSnapshot, workerCount } from '../config/compile.js'
import { loadConfigFile } from '../config/load.js'
import { startEchoBackend, type EchoBackend } from '../echo/server.js'
import { ConfigError } from '../errors.js'
import { startGateway } from '../gateway.js'
import { option } from './main.js'

/**
 * `aauth-gateway serve --config FILE`: runs until SIGINT/SIGTERM. SIGHUP, or a change to the
 * config file or a policy file, reloads the config (kept as it was if the new one is invalid).
 * `--echo-backend HOST:PORT` also starts the demo echo backend (what `npm start` uses), so a
 * newcomer can see what the backend receives.
 *
 * With `workers` > 1 in the config this process becomes the cluster primary and each worker
 * runs this command again (docs/scaling.md); with 1 (the default) it is the one process.
 */
export async function serveCommand(args: string[]): Promise<number> {
  const file = option(args, 'config') ?? 'config/gateway.yaml'
  if (cluster.isWorker) return runWorker(file)
  const echo = option(args, 'echo-backend')
  const echoServer = echo ? await startEchoBackend(echo) : undefined
  if (echoServer) process.stderr.write(`aauth-gateway: echo backend on ${echoServer.url}\n`)
  if (configuredWorkers(file) > 1) return servePrimary(file, echoServer)
  let gateway
  try {
    gateway = await startGateway({ configFile: file, watch: true })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(err.message + '\n')
    await echoServer?.close()
    return 1
  }
  const g = gateway
  process.stderr.write(`aauth-gateway: proxy on ${g.url}, admin on ${g.adminUrl} (config ${file})\n`)
  process.on('SIGHUP', () => void g.reload())
  return new Promise((resolve) => {
    // SIGTERM (what Kubernetes and Compose send) drains: /readyz turns 503 at once, in-flight
    // requests finish up to `limits.drain_timeout`, then the process exits 0. SIGINT too.
    const stop = (): void => {
      process.stderr.write('aauth-gateway: draining\n')
      void g
        .drain(g.snapshot().resource.limits.drain_timeout)
        .then(() => echoServer?.close())
        .then(() => resolve(0))
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}

/** `workers` from the config; 1 when it cannot be read, so the one-process path reports why. */
function configuredWorkers(file: string): number {
  try {
    return workerCount(loadConfigFile(file).config.workers)
  } catch {
    return 1
  }
}

/** `serve` as the cluster primary: validates the config, starts the workers, runs until drained. */
async function servePrimary(file: string, echoServer: EchoBackend | undefined): Promise<number> {
  let primary
  try {
    const snapshot = await buildSnapshot(file)
    primary = await startPrimary({ configFile: file, snapshot })
    process.stderr.write(`aauth-gateway: proxy on ${primary.url}, admin on ${primary.adminUrl} (config ${file}, ${snapshot.workers} workers)\n`)
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    await echoServer?.close()
    return 1
  }
  const code = await primary.done
  process.stderr.write('aauth-gateway: every worker drained\n')
  await echoServer?.close()
  return code
}
