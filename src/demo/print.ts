import { STATUS_CODES } from 'node:http'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import type { DecisionEntry } from '../log/decision.js'
import type { Exchange } from './delegate.js'

export type Write = (text: string) => void

const RULE = '='.repeat(80)
const THIN = '-'.repeat(80)
/** Long values (tokens, signatures) are cut to this many characters. */
const SHORT = 60
const SHOWN_HEADERS = ['aauth-requirement', 'aauth-access', 'signature-error', 'accept-signature-scheme', 'accept-signature-alg']
const SENT_HEADERS: Record<string, string> = {
  'content-type': 'Content-Type',
  'content-digest': 'Content-Digest',
  authorization: 'Authorization',
  'signature-input': 'Signature-Input',
  signature: 'Signature',
  'signature-key': 'Signature-Key',
}
const DECISION_FIELDS = ['route', 'status', 'decision', 'reason', 'aauth_level', 'scheme', 'agent', 'delegate', 'user', 'policy', 'rule'] as const

export interface StepResult {
  title: string
  passed: boolean
}

/**
 * The transcript, in the look of the AAuth demos: `=====` banners, `>>>` requests, `<<<`
 * responses, `✓`/`✗` checks. Gateway decision-log entries are held until the exchange that
 * caused them is printed, and shown under its request.
 */
export class Printer {
  private readonly decisions: DecisionEntry[] = []

  constructor(private readonly write: Write) {}

  line(text = ''): void {
    this.write(text + '\n')
  }

  banner(title: string, lines: readonly string[] = []): void {
    this.line()
    this.line(RULE)
    this.line(title)
    this.line(RULE)
    if (lines.length > 0) {
      for (const l of lines) this.line(l)
      this.line(RULE)
    }
  }

  /** Called by the gateway's decision log. */
  decision(entry: DecisionEntry): void {
    this.decisions.push(entry)
  }

  /** A request the delegate sent and the answer it got. */
  exchange(ex: Exchange): void {
    this.line()
    this.line(`>>> DELEGATE REQUEST ${ex.method} ${ex.url}`)
    for (const [name, label] of Object.entries(SENT_HEADERS)) {
      const value = ex.sent[name]
      if (value !== undefined) this.line(`    ${label}: ${short(value, name === 'signature-input' ? 200 : SHORT)}`)
    }
    if (ex.body !== undefined) this.line(`    [Body ${Buffer.byteLength(ex.body)} bytes] ${shortJson(ex.body)}`)
    for (const d of this.decisions.splice(0)) this.line(`    gateway log: ${compact(d)}`)
    this.line(`<<< ${ex.status} ${STATUS_CODES[ex.status] ?? ''}`)
    for (const name of SHOWN_HEADERS) {
      const value = ex.headers.get(name)
      if (value !== null) this.line(`    ${titleCase(name)}: ${short(value, 90)}`)
    }
    this.body(ex)
  }

  /** A JWT's header and claims, decoded (not verified: the delegate reads what it was given). */
  token(label: string, jwt: string): void {
    this.line(`  ${label}: ${short(jwt, SHORT)}`)
    this.line(`    header: ${JSON.stringify(decodeProtectedHeader(jwt))}`)
    const claims = JSON.stringify(decodeJwt(jwt), (_k, v: unknown) => (typeof v === 'string' ? short(v, SHORT) : v), 2)
    this.line(`    claims: ${claims.replace(/\n/g, '\n    ')}`)
  }

  check(ok: boolean, message: string): void {
    this.line(`  ${ok ? '✓' : '✗'} ${message}`)
  }

  summary(results: readonly StepResult[]): void {
    const passed = results.filter((r) => r.passed).length
    this.banner('TEST SUMMARY')
    for (const r of results) this.line(`${r.passed ? '✓ PASSED' : '✗ FAILED'}: ${r.title}`)
    this.line()
    this.line(THIN)
    this.line(`Total: ${results.length} | Passed: ${passed} | Failed: ${results.length - passed}`)
    this.line(RULE)
  }

  /** The backend's view (the `x-aauth-*` headers the echo backend received), a problem, or the JSON answer. */
  private body(ex: Exchange): void {
    let json: Record<string, unknown>
    try {
      json = JSON.parse(ex.text) as Record<string, unknown>
    } catch {
      if (ex.text !== '') this.line(`    [Body] ${short(ex.text, 90)}`)
      return
    }
    const headers = json.headers
    if (typeof headers === 'object' && headers !== null && typeof json.method === 'string') {
      this.line('    backend saw:')
      for (const [name, value] of Object.entries(headers)) {
        if (name.startsWith('x-aauth-')) this.line(`      ${name}: ${String(value)}`)
      }
    } else if (typeof json.error === 'string') {
      this.line(`    problem: ${json.error}: ${String(json.detail ?? '')}`)
    } else {
      this.line(`    [Body] ${shortJson(ex.text)}`)
    }
  }
}

export function short(value: string, max = SHORT): string {
  return value.length > max ? `${value.slice(0, max)}...` : value
}

function shortJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), (_k, v: unknown) => (typeof v === 'string' ? short(v, SHORT) : v))
  } catch {
    return short(text, 90)
  }
}

function compact(d: DecisionEntry): string {
  return DECISION_FIELDS.filter((f) => d[f] !== '').map((f) => `${f}=${d[f]}`).join(' ')
}

function titleCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()).replace('Aauth', 'AAuth')
}
