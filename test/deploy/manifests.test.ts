import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { posix, resolve } from 'node:path'
import { describe, test } from 'node:test'
import { parse, parseAllDocuments } from 'yaml'
import { parseConfigText } from '../../src/config/load.js'
import type { ConfigProblem } from '../../src/errors.js'
import { parsePolicyFile } from '../../src/policy/load.js'

/**
 * The deployment files under deploy/ agree with each other and with the gateway: what the
 * Kubernetes objects and the Compose file say about ports, probes, mounts, drain time and the
 * store matches the config they ship, and that config loads.
 */

// Tests run from the repository root (npm test).
const K8S = resolve('deploy/kubernetes')
const COMPOSE = resolve('deploy/compose')

// Manifests are read as loose data and checked field by field.
type Obj = Record<string, any>

function k8sObjects(): Obj[] {
  return readdirSync(K8S)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => parseAllDocuments(readFileSync(resolve(K8S, f), 'utf8')).map((d) => d.toJS() as Obj))
}

function find(objects: Obj[], kind: string, name: string): Obj {
  const o = objects.find((x) => x.kind === kind && x.metadata?.name === name)
  assert.ok(o, `${kind} ${name} exists`)
  return o
}

/** `host:port` -> its parts. */
function address(value: string): { host: string; port: number } {
  const colon = value.lastIndexOf(':')
  return { host: value.slice(0, colon), port: Number(value.slice(colon + 1)) }
}

/**
 * Loads a shipped config with the gateway's own schema. `store` (docs/state-store.md) is checked
 * by the caller and left out here until the schema has it.
 */
function loadShippedConfig(text: string, file: string): { config: Obj; store: Obj } {
  const raw = parse(text) as Obj
  const { store, ...rest } = raw
  const { config } = parseConfigText(JSON.stringify(rest), file, {})
  return { config: config as Obj, store: store as Obj }
}

function checkStore(store: Obj, redisHost: string, redisPort: number): void {
  assert.equal(store.type, 'redis')
  const url = new URL(store.url as string)
  assert.equal(url.protocol, 'redis:')
  assert.equal(url.hostname, redisHost, 'store.url names the Redis service')
  assert.equal(Number(url.port), redisPort)
  assert.equal(store.key_prefix, 'aauth-gateway:')
  assert.equal(typeof store.timeout, 'number')
}

describe('deploy/kubernetes', () => {
  const objects = k8sObjects()
  const deployment = find(objects, 'Deployment', 'aauth-gateway')
  const pod = deployment.spec.template.spec as Obj
  const container = pod.containers[0] as Obj
  const configMap = find(objects, 'ConfigMap', 'aauth-gateway-config')
  const { config, store } = loadShippedConfig(configMap.data['gateway.yaml'] as string, 'configmap gateway.yaml')
  const port = (name: string): number => (container.ports as Obj[]).find((p) => p.name === name)?.containerPort as number

  test('the kustomization lists every file', () => {
    const k = parse(readFileSync(resolve(K8S, 'kustomization.yaml'), 'utf8')) as Obj
    assert.deepEqual([...(k.resources as string[])].sort(), readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort())
  })

  test('container ports are the config\'s listeners, and both bind every interface', () => {
    assert.equal(port('http'), address(config.listen as string).port)
    assert.equal(port('admin'), address(config.admin as string).port)
    assert.equal(address(config.listen as string).host, '0.0.0.0')
    assert.equal(address(config.admin as string).host, '0.0.0.0', 'the kubelet probes the admin listener from outside the container')
  })

  test('readiness probes /readyz and liveness /healthz, on the admin port', () => {
    const probePort = (p: Obj): number => (typeof p.httpGet.port === 'string' ? port(p.httpGet.port as string) : (p.httpGet.port as number))
    assert.equal(container.readinessProbe.httpGet.path, '/readyz')
    assert.equal(probePort(container.readinessProbe as Obj), address(config.admin as string).port)
    assert.equal(container.livenessProbe.httpGet.path, '/healthz')
    assert.equal(probePort(container.livenessProbe as Obj), address(config.admin as string).port)
  })

  test('the ConfigMap is mounted as a directory where --config points, with the policies beside the config', () => {
    const args = container.args as string[]
    const configPath = args[args.indexOf('--config') + 1] as string
    assert.equal(args[0], 'serve')
    const mount = (container.volumeMounts as Obj[]).find((m) => m.mountPath === posix.dirname(configPath))
    assert.ok(mount, `a volume is mounted at ${posix.dirname(configPath)}`)
    assert.equal(mount.subPath, undefined, 'a subPath mount is never updated by the kubelet (docs/operations.md)')
    const volume = (pod.volumes as Obj[]).find((v) => v.name === mount.name)
    assert.equal(volume?.configMap?.name, configMap.metadata.name)
    const items = volume?.configMap?.items as Obj[]
    assert.ok(items.some((i) => i.key === 'gateway.yaml' && i.path === posix.basename(configPath)))
    // Every policy file lands in the policies directory the config names, and holds the policies routes use.
    const policyDir = posix.normalize(config.policies as string)
    const policyItems = items.filter((i) => i.key !== 'gateway.yaml')
    assert.ok(policyItems.length > 0)
    const names = new Set<string>()
    for (const item of policyItems) {
      assert.equal(posix.dirname(item.path as string), policyDir)
      const problems: ConfigProblem[] = []
      for (const p of parsePolicyFile(configMap.data[item.key as string] as string, item.path as string, problems)) names.add(p.name)
      assert.deepEqual(problems, [], `${item.key as string} compiles`)
    }
    for (const route of config.routes as Obj[]) if (route.policy !== undefined) assert.ok(names.has(route.policy as string), `policy ${route.policy as string}`)
  })

  test('at least two replicas, a disruption budget that keeps some, and the image built from the Dockerfile', () => {
    assert.ok((deployment.spec.replicas as number) >= 2)
    const pdb = find(objects, 'PodDisruptionBudget', 'aauth-gateway')
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.template.metadata.labels)
    const keeps = pdb.spec.minAvailable ?? (deployment.spec.replicas as number) - (pdb.spec.maxUnavailable as number)
    assert.ok(keeps >= 1 && keeps < (deployment.spec.replicas as number))
    assert.match(container.image as string, /^aauth-gateway(:[\w.-]+)?$/)
  })

  test('the grace period covers the preStop sleep and limits.drain_timeout', () => {
    const sleep = container.lifecycle.preStop.exec.command as string[]
    assert.equal(sleep[0], 'sleep')
    const preStop = Number(sleep[1])
    const drain = config.limits.drain_timeout as number
    assert.ok(pod.terminationGracePeriodSeconds > drain, 'terminationGracePeriodSeconds > drain_timeout')
    assert.ok(pod.terminationGracePeriodSeconds > drain + preStop, `${pod.terminationGracePeriodSeconds as number} s > ${preStop} s preStop + ${drain} s drain`)
  })

  test('the Service sends to the proxy port; the store points at the Redis Service', () => {
    const service = find(objects, 'Service', 'aauth-gateway')
    assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels)
    assert.equal(service.spec.ports[0].targetPort, 'http')
    const redis = find(objects, 'Service', 'redis')
    checkStore(store, redis.metadata.name as string, redis.spec.ports[0].port as number)
    const redisPod = find(objects, 'Deployment', 'redis').spec.template
    assert.deepEqual(redis.spec.selector, redisPod.metadata.labels)
  })
})

describe('deploy/compose', () => {
  const compose = parse(readFileSync(resolve(COMPOSE, 'compose.yaml'), 'utf8')) as Obj
  const services = compose.services as Obj
  const { config, store } = loadShippedConfig(readFileSync(resolve(COMPOSE, 'config/gateway.yaml'), 'utf8'), 'config/gateway.yaml')
  const gateways = ['gateway-1', 'gateway-2']

  test('two gateways of the project\'s image, each with the config directory where --config points', () => {
    for (const name of gateways) {
      const g = services[name] as Obj
      assert.match(g.image as string, /^aauth-gateway(:[\w.-]+)?$/)
      assert.equal(g.build.dockerfile, 'Dockerfile')
      const command = g.command as string[]
      const configPath = command[command.indexOf('--config') + 1] as string
      const mounted = (g.volumes as string[]).map((v) => v.split(':')).find(([, target]) => target === posix.dirname(configPath))
      assert.ok(mounted, `${name} mounts a directory at ${posix.dirname(configPath)}`)
      assert.equal(resolve(COMPOSE, mounted[0] as string), resolve(COMPOSE, 'config'))
      assert.ok(parseDuration(g.stop_grace_period as string) > (config.limits.drain_timeout as number), `${name}: stop_grace_period > drain_timeout`)
    }
    assert.equal(address(config.admin as string).host, '0.0.0.0', 'the admin listener must bind every interface in a container')
  })

  test('the load balancer targets both gateways on their proxy port, and is published', () => {
    const nginx = readFileSync(resolve(COMPOSE, 'nginx.conf'), 'utf8')
    const upstream = /upstream\s+(\w+)\s*\{([^}]*)\}/.exec(nginx)
    assert.ok(upstream, 'an upstream block')
    const targets = [...(upstream[2] as string).matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`)
    assert.deepEqual(targets.sort(), gateways.map((g) => `${g}:${address(config.listen as string).port}`))
    assert.match(nginx, new RegExp(`proxy_pass\\s+http://${upstream[1]};`), 'proxy_pass without a URI keeps the request target as sent')
    const lb = services.lb as Obj
    assert.ok((lb.volumes as string[]).some((v) => v.startsWith('./nginx.conf:')))
    assert.deepEqual(lb.ports, ['8080:8080'])
    assert.match(nginx, /listen\s+8080;/)
  })

  test('the store points at the Redis service, and routes at the echo backend', () => {
    assert.ok(services.redis)
    checkStore(store, 'redis', 6379)
    for (const route of config.routes as Obj[]) {
      const upstream = new URL(route.upstream as string)
      assert.ok(services[upstream.hostname], `route ${route.name as string} goes to a service of the file`)
    }
    assert.match(JSON.stringify(services.echo.entrypoint), /startEchoBackend\('0\.0\.0\.0:3000'\)/)
  })
})

function parseDuration(value: string): number {
  const m = /^(\d+)(s|m)$/.exec(value)
  assert.ok(m, `a duration such as 40s: ${value}`)
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1)
}
