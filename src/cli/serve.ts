import cluster from 'node:cluster'
import { startPrimary } from '../cluster/primary.js'
import { runWorker } from '../cluster/worker.js'
import { buildSnapshot, workerCount } from '../config/compile.js'
import { loadConfigFile } from '../config/load.js'
import { ConfigError } from '../errors.js'
import { startGateway } from '../gateway.js'
import type { Logger } from 'pino'
import { createLogger, DEFAULT_LOG_SETTINGS, levelFromEnv, standardDestination, type LogLevel } from '../log/logger.js'

/**
 * `aauth-gateway serve --config FILE` (src/cli/commands.ts): runs until SIGINT/SIGTERM. SIGHUP, or a change to the
 * config file or a policy file, reloads the config (kept as it was if the new one is invalid).
 * `--echo-backend HOST:PORT` also starts the demo echo backend (what `npm start` uses), so a
 * newcomer can see what the backend receives. Everything it reports is a JSON line on stderr
 * (README "Metrics and logs"); decision lines go to stdout.
 *
 * With `workers` > 1 in the config this process becomes the cluster primary and each worker
 * runs this command again (docs/scaling.md); with 1 (the default) it is the one process.
 */
/** What `serve` needs of the echo backend. */
interface EchoServer {
  url: string
  close(): Promise<void>
}

export async function serve(file: string, echo: string | undefined): Promise<number> {
  if (cluster.isWorker) return runWorker(file)
  // Until the config is read: what goes wrong before it (a bad config, a port in use) is
  // still a JSON line, at the level LOG_LEVEL asks for when it names one.
  const boot = createLogger({ ...DEFAULT_LOG_SETTINGS, level: bootLevel() }, standardDestination(2))
  // The echo backend is the developer kit's (src/devkit), loaded only when asked for: the runtime
  // image does not ship the kit (docs/architecture.md "Developer kit").
  const echoServer: EchoServer | undefined = echo
    ? await (await import('../devkit/backend.js')).startBackend({ listen: echo, record: false })
    : undefined
  if (echoServer) boot.info({ echo_url: echoServer.url }, `echo backend on ${echoServer.url}`)
  if (configuredWorkers(file) > 1) return servePrimary(file, echoServer, boot)
  let gateway
  try {
    gateway = await startGateway({ configFile: file, watch: true })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    boot.error({ problems: err.problems }, `the gateway did not start:\n${err.message}`)
    await echoServer?.close()
    return 1
  }
  const g = gateway
  process.on('SIGHUP', () => void g.reload())
  return new Promise((resolve) => {
    // SIGTERM (what Kubernetes and Compose send) drains: /readyz turns 503 at once, in-flight
    // requests finish up to `limits.drain_timeout`, then the process exits 0. SIGINT too.
    const stop = (signal: string): void => {
      g.logger.info({ signal, drain_timeout: g.snapshot().resource.limits.drain_timeout }, 'draining')
      void g
        .drain(g.snapshot().resource.limits.drain_timeout)
        .then(() => echoServer?.close())
        .then(() => {
          g.logger.info({}, 'stopped')
          resolve(0)
        })
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    // Only now: whoever waits for this line may signal at once (stdout and stderr are written
    // from libuv's thread pool, so the line can be out before this function returns).
    g.logger.info(
      { proxy_url: g.url, admin_url: g.adminUrl, config: file },
      `proxy on ${g.url}, admin on ${g.adminUrl} (config ${file})`,
    )
  })
}

/** `LOG_LEVEL`, or `info` when it is unset or not a level (the gateway then reports that). */
function bootLevel(): LogLevel {
  try {
    return levelFromEnv(process.env) ?? DEFAULT_LOG_SETTINGS.level
  } catch {
    return DEFAULT_LOG_SETTINGS.level
  }
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
async function servePrimary(file: string, echoServer: EchoServer | undefined, log: Logger): Promise<number> {
  let primary
  try {
    const snapshot = await buildSnapshot(file)
    primary = await startPrimary({ configFile: file, snapshot })
    log.info(
      { proxy_url: primary.url, admin_url: primary.adminUrl, workers: snapshot.workers },
      `proxy on ${primary.url}, admin on ${primary.adminUrl} (config ${file}, ${snapshot.workers} workers)`,
    )
  } catch (err) {
    log.error({ err }, err instanceof Error ? err.message : String(err))
    await echoServer?.close()
    return 1
  }
  const code = await primary.done
  log.info({}, 'every worker drained')
  await echoServer?.close()
  return code
}
