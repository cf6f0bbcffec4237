import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { stringify } from 'yaml'
import { startAgentServer, type AgentServer } from '../../src/devkit/agent-server.js'
import { startBackend, type Backend } from '../../src/devkit/backend.js'
import { startGateway, type RunningGateway } from '../../src/gateway.js'
import type { DecisionEntry, DecisionLog } from '../../src/log/decision.js'

/** The authority test agents sign; the gateway is reached on 127.0.0.1 whatever this says. */
export const AUTHORITY = 'api.test'

export interface TestGateway extends RunningGateway {
  dir: string
  configFile: string
  decisions: DecisionEntry[]
  /** Operational log lines (start, reload, errors), parsed: kept here rather than on stderr. */
  opsLines: Record<string, unknown>[]
  /** Rewrites the config file (for reload tests). */
  writeConfig(config: Record<string, unknown>): void
}

/**
 * Starts a real gateway on ephemeral loopback ports from a config object (written as YAML into
 * a temp dir, so relative paths such as `policies` resolve there). Decision lines are captured.
 */
export async function startTestGateway(
  config: Record<string, unknown>,
  files: Record<string, string> = {},
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'aauth-gw-'))
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  const configFile = join(dir, 'gateway.yaml')
  const write = (c: Record<string, unknown>): void =>
    writeFileSync(configFile, stringify({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', ...c }))
  write({ resource: { issuer: 'https://api.test' }, ...config })
  const decisions: DecisionEntry[] = []
  const log: DecisionLog = { write: (e) => void decisions.push(e) }
  const opsLines: Record<string, unknown>[] = []
  const operational = { write: (line: string) => void opsLines.push(JSON.parse(line) as Record<string, unknown>) }
  const gw = await startGateway({ configFile, log, env: options.env ?? {}, logDestinations: { operational } })
  const close = gw.close.bind(gw)
  return Object.assign(gw, {
    close: async () => {
      await close()
      rmSync(dir, { recursive: true, force: true })
    }, dir, configFile, decisions, opsLines, writeConfig: (c: Record<string, unknown>) => write({ resource: { issuer: 'https://api.test' }, ...c }) })
}

export interface Answer {
  status: number
  headers: Headers
  text: string
  json(): Record<string, unknown>
}

/** Sends a request to the gateway with real HTTP and reads the whole answer. */
export async function send(
  gw: { url: string },
  target: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const res = await fetch(gw.url + target, { method: init.method ?? 'GET', headers: init.headers, body: init.body })
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> }
}

/** What most gateway tests stand up: loopback issuers, a recording backend and a gateway over them. */
export interface TestWorld {
  /** Agent, person or access servers (the devkit's issuer answers every well-known document). */
  issuers: AgentServer[]
  backend: Backend
  gw: TestGateway
  /** Stops whatever started, in reverse order. */
  close(): Promise<void>
}

/**
 * Starts `issuers` issuers and a backend, then a gateway from the config `configure` builds out
 * of them (their origins, the backend's URL), with `files` written beside it. What started is
 * closed again when a later step fails, so a failed `before` leaves no server behind.
 */
export async function startTestWorld(
  configure: (world: { issuers: AgentServer[]; backend: Backend }) => Record<string, unknown>,
  options: { issuers?: number; files?: Record<string, string> } = {},
): Promise<TestWorld> {
  const started: { close(): Promise<void> }[] = []
  const close = async (): Promise<void> => {
    for (const s of started.reverse()) await s.close()
  }
  try {
    const issuers = await Promise.all(Array.from({ length: options.issuers ?? 1 }, () => startAgentServer()))
    started.push(...issuers)
    const backend = await startBackend()
    started.push(backend)
    const gw = await startTestGateway(configure({ issuers, backend }), options.files)
    started.push(gw)
    return { issuers, backend, gw, close }
  } catch (err) {
    await close()
    throw err
  }
}
