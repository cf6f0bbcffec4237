import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join, resolve } from 'node:path'
import { stringify } from 'yaml'

// Tests run from the repository root (npm test), whether compiled or through tsx.
const BIN = resolve('bin/aauth-gateway.js')

export interface ServedProcess {
  child: ChildProcess
  configFile: string
  url: string
  adminUrl: string
  stdout(): string
  stderr(): string
  /** The decision lines written so far, parsed. */
  decisions(): Array<Record<string, unknown> & { worker?: number; path: string; status: number; reason: string }>
  exited: Promise<number | null>
  /** Rewrites the config file (a reload picks it up). */
  writeConfig(config: Record<string, unknown>): void
}

/**
 * Runs `aauth-gateway serve --config FILE` as users do, with `config` (plus loopback listeners
 * on ephemeral ports) written to `dir/gateway.yaml`, and reads the listener addresses it prints.
 */
export async function serveProcess(dir: string, config: Record<string, unknown>): Promise<ServedProcess> {
  const configFile = join(dir, 'gateway.yaml')
  const writeConfig = (c: Record<string, unknown>): void =>
    writeFileSync(configFile, stringify({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', resource: { issuer: 'https://api.test' }, ...c }))
  writeConfig(config)
  const child = spawn(process.execPath, [BIN, 'serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()))
  // 'close', not 'exit': by then everything the process wrote has been read.
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)))
  const addresses = await new Promise<RegExpExecArray>((resolveAddr, reject) => {
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString()
      const m = /proxy on (\S+), admin on (\S+)/.exec(err)
      if (m) resolveAddr(m)
    })
    void exited.then(() => reject(new Error(`serve exited early:\n${err}`)))
  })
  return {
    child,
    configFile,
    url: addresses[1] as string,
    adminUrl: addresses[2] as string,
    stdout: () => out,
    stderr: () => err,
    decisions: () =>
      out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown> & { worker?: number; path: string; status: number; reason: string }),
    exited,
    writeConfig,
  }
}

export interface Got {
  status: number
  body: string
}

/**
 * A request on a fresh connection (no pooling, so the cluster hands each to the next worker),
 * resolving status and body, or the error; one that hangs past `timeoutMs` is an error too.
 */
export function getFresh(url: string, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<Got | Error> {
  return new Promise((done) => {
    const req = request(url, { agent: false, headers, timeout: timeoutMs }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => done({ status: res.statusCode ?? 0, body }))
      res.on('error', (e) => done(e))
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', (e) => done(e))
    req.end()
  })
}

/** A metric's value in Prometheus text (the sample with exactly `labels`, or without labels). */
export function metricValue(text: string, name: string, labels = ''): number | undefined {
  const prefix = labels === '' ? `${name} ` : `${name}{${labels}} `
  const line = text.split('\n').find((l) => l.startsWith(prefix))
  return line === undefined ? undefined : Number(line.slice(prefix.length))
}
