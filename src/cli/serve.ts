import { startEchoBackend } from '../echo/server.js'
import { ConfigError } from '../errors.js'
import { startGateway } from '../gateway.js'
import { option } from './main.js'

/**
 * `aauth-gateway serve --config FILE`: runs until SIGINT/SIGTERM. SIGHUP, or a change to the
 * config file or a policy file, reloads the config (kept as it was if the new one is invalid).
 * `--echo-backend HOST:PORT` also starts the demo echo backend (what `npm start` uses), so a
 * newcomer can see what the backend receives.
 */
export async function serveCommand(args: string[]): Promise<number> {
  const file = option(args, 'config') ?? 'config/gateway.yaml'
  const echo = option(args, 'echo-backend')
  const echoServer = echo ? await startEchoBackend(echo) : undefined
  if (echoServer) process.stderr.write(`aauth-gateway: echo backend on ${echoServer.url}\n`)
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
