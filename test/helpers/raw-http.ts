import { connect, type Socket } from 'node:net'

/**
 * Raw HTTP/1.1 over a plain socket, for tests that must send exactly the bytes they mean:
 * fetch and undici resolve dot segments, re-encode targets and fix framing before anything is
 * sent. Every wait has a deadline, so a gateway that never answers fails the test instead of
 * hanging it.
 */

export interface RawResponse {
  status: number
  reason: string
  /** Field lines as received, names in their original case. */
  rawHeaders: [string, string][]
  /** The first value of a field (case-insensitive), or `undefined`. */
  header(name: string): string | undefined
  /** Every value of a field (case-insensitive), in order. */
  headers(name: string): string[]
  body: Buffer
  text: string
  json(): Record<string, unknown>
}

export interface ReadOptions {
  /** Milliseconds to wait for the whole response; default 5000. */
  timeoutMs?: number
  /** The response answers a HEAD request: no body whatever the headers say. */
  head?: boolean
}

const DEFAULT_TIMEOUT_MS = 5000

/** One client connection: write bytes, read whole responses, see when the server closes. */
export class RawConnection {
  private buffer = Buffer.alloc(0)
  private ended = false
  private waiter: (() => void) | undefined

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      this.wake()
    })
    const end = (): void => {
      this.ended = true
      this.wake()
    }
    socket.on('end', end)
    socket.on('close', end)
    // A reset from the server is an end like any other here; tests assert on what was read.
    socket.on('error', end)
  }

  /** Connects to `url`'s host and port (e.g. `gw.url`). */
  static open(url: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RawConnection> {
    const { hostname, port } = new URL(url)
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) })
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new Error(`could not connect to ${url} within ${timeoutMs} ms`))
      }, timeoutMs)
      socket.once('connect', () => {
        clearTimeout(timer)
        resolve(new RawConnection(socket))
      })
      socket.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
  }

  write(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes)
  }

  /** Half-closes the connection (FIN): the server may still answer. */
  end(): void {
    this.socket.end()
  }

  destroy(): void {
    this.socket.destroy()
  }

  /** Whether the server closed (or reset) the connection. */
  get closed(): boolean {
    return this.ended
  }

  /** Bytes received and not consumed by `response()` (e.g. WebSocket frames after a 101). */
  unread(): Buffer {
    return this.buffer
  }

  /** Consumes `n` unread bytes, waiting for them up to the deadline. */
  async take(n: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    await this.until(() => this.buffer.length >= n, timeoutMs, `${n} bytes`)
    const out = this.buffer.subarray(0, n)
    this.buffer = this.buffer.subarray(n)
    return out
  }

  /** Waits until the unread bytes hold `text` (latin1), without consuming them. */
  async waitForText(text: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.until(() => this.buffer.toString('latin1').includes(text), timeoutMs, JSON.stringify(text))
  }

  /** Reads the next complete response. Rejects on timeout, or when the connection ends first. */
  async response(options: ReadOptions = {}): Promise<RawResponse> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    let parsed: { response: RawResponse; used: number } | undefined
    await this.until(
      () => {
        parsed = parseResponse(this.buffer, this.ended, options.head ?? false)
        return parsed !== undefined || this.ended
      },
      timeoutMs,
      'a complete response',
    )
    if (parsed === undefined) {
      throw new Error(`the connection ended before a complete response; received: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 500))}`)
    }
    this.buffer = this.buffer.subarray(parsed.used)
    return parsed.response
  }

  /** Resolves once the server closed the connection; rejects at the deadline. */
  async waitClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.until(() => this.ended, timeoutMs, 'the server to close the connection')
  }

  private wake(): void {
    const w = this.waiter
    this.waiter = undefined
    w?.()
  }

  private until(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (ready()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 500))}`))
      }, timeoutMs)
      const check = (): void => {
        if (ready()) {
          clearTimeout(timer)
          resolve()
        } else {
          this.waiter = check
        }
      }
      this.waiter = check
    })
  }
}

/**
 * Opens a connection, writes `bytes`, reads `count` responses (default 1) and closes. For
 * pipelined or keep-alive exchanges use `RawConnection` directly.
 */
export async function rawExchange(url: string, bytes: string | Buffer, options: ReadOptions & { count?: number } = {}): Promise<RawResponse[]> {
  const conn = await RawConnection.open(url)
  try {
    conn.write(bytes)
    const out: RawResponse[] = []
    for (let i = 0; i < (options.count ?? 1); i++) out.push(await conn.response(options))
    return out
  } finally {
    conn.destroy()
  }
}

/** One request, one response: `rawExchange` for the common case. */
export async function rawRequest(url: string, bytes: string | Buffer, options: ReadOptions = {}): Promise<RawResponse> {
  const [response] = await rawExchange(url, bytes, options)
  return response as RawResponse
}

/** `GET {target}` with a Host and `Connection: close`, plus extra field lines. */
export function getRequest(target: string, extra: string[] = [], method = 'GET'): string {
  return [`${method} ${target} HTTP/1.1`, 'Host: api.test', ...extra, 'Connection: close', '', ''].join('\r\n')
}

/** A body in chunked transfer coding, in `pieces` chunks (default one), with the last chunk. */
export function chunked(body: string, pieces = 1): string {
  if (body === '') return '0\r\n\r\n'
  const size = Math.ceil(body.length / pieces)
  let out = ''
  for (let i = 0; i < body.length; i += size) {
    const piece = body.slice(i, i + size)
    out += `${Buffer.byteLength(piece, 'latin1').toString(16)}\r\n${piece}\r\n`
  }
  return out + '0\r\n\r\n'
}

/**
 * Parses one response at the start of `buf`; `undefined` while it is incomplete. A body
 * delimited by the close of the connection is complete once `ended`.
 */
export function parseResponse(buf: Buffer, ended: boolean, head: boolean): { response: RawResponse; used: number } | undefined {
  const headEnd = buf.indexOf('\r\n\r\n')
  if (headEnd === -1) return undefined
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n')
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? '')
  if (statusLine === null) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`)
  const status = Number(statusLine[1])
  const rawHeaders: [string, string][] = []
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    rawHeaders.push([line.slice(0, colon), line.slice(colon + 1).trim()])
  }
  const values = (name: string): string[] => rawHeaders.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v)
  let offset = headEnd + 4
  let body: Buffer
  const te = values('transfer-encoding').join(',').toLowerCase()
  const length = values('content-length')[0]
  if (head || (status >= 100 && status < 200) || status === 204 || status === 304) {
    body = Buffer.alloc(0)
  } else if (te.includes('chunked')) {
    const chunks: Buffer[] = []
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', offset)
      if (lineEnd === -1) return undefined
      const size = parseInt(buf.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '', 16)
      if (Number.isNaN(size)) throw new Error('bad chunk size in response')
      offset = lineEnd + 2
      if (size === 0) {
        // Trailer section: lines until an empty one.
        for (;;) {
          const end = buf.indexOf('\r\n', offset)
          if (end === -1) return undefined
          const empty = end === offset
          offset = end + 2
          if (empty) break
        }
        break
      }
      if (buf.length < offset + size + 2) return undefined
      chunks.push(buf.subarray(offset, offset + size))
      offset += size + 2
    }
    body = Buffer.concat(chunks)
  } else if (length !== undefined) {
    const n = Number(length)
    if (buf.length < offset + n) return undefined
    body = buf.subarray(offset, offset + n)
    offset += n
  } else {
    if (!ended) return undefined
    body = buf.subarray(offset)
    offset = buf.length
  }
  const text = body.toString('utf8')
  return {
    used: offset,
    response: {
      status,
      reason: statusLine[2] ?? '',
      rawHeaders,
      header: (name) => values(name)[0],
      headers: values,
      body,
      text,
      json: () => JSON.parse(text) as Record<string, unknown>,
    },
  }
}

/** A header object (e.g. from `signRequest`) as field lines for a raw request. */
export function fieldLines(headers: Record<string, string>): string[] {
  return Object.entries(headers).map(([name, value]) => `${name}: ${value}`)
}

/** A raw request: request line, `Host: api.test` unless `host` is given (null: none), fields, body. */
export function rawMessage(method: string, target: string, fields: string[] = [], body = '', host: string | null = 'api.test'): string {
  const lines = [`${method} ${target} HTTP/1.1`]
  if (host !== null) lines.push(`Host: ${host}`)
  return [...lines, ...fields, '', body].join('\r\n')
}
