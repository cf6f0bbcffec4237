import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { parse } from 'yaml'
import { startTestGateway, type TestGateway } from '../helpers/gateway.js'

// Tests run from the repository root (npm test).
const DASHBOARD = 'deploy/grafana/aauth-gateway.json'
const ALERTS = 'deploy/prometheus/alerts.yaml'
const ALERT_TESTS = 'deploy/prometheus/alerts.test.yaml'

/** promtool comes with Debian's `prometheus` package; .ci/run installs it, so CI never skips. */
const promtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0
const noPromtool = promtool ? false : 'promtool is not installed (apt-get install prometheus)'

function run(args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8' })
  return { status: r.status, output: `${r.stdout}${r.stderr}` }
}

/** Metric names a PromQL expression reads: ours, and Node's process metrics. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:aauth_gateway|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1] as string)
}

/** Every `expr` in a Grafana dashboard, rows and nested panels included. */
function dashboardExpressions(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(dashboardExpressions)
  if (node === null || typeof node !== 'object') return []
  return Object.entries(node).flatMap(([k, v]) => (k === 'expr' && typeof v === 'string' ? [v] : dashboardExpressions(v)))
}

describe('monitoring: Prometheus alert rules and the Grafana dashboard', () => {
  let gw: TestGateway
  /** Metric families the gateway exposes, from the `# TYPE` lines of its /metrics. */
  let exposed: Map<string, string>

  before(async () => {
    gw = await startTestGateway({})
    const text = await (await fetch(gw.adminUrl + '/metrics')).text()
    exposed = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]))
  })
  after(async () => {
    await gw.close()
  })

  /** Whether `name` is exposed: a family, or a histogram's `_bucket`, `_sum` or `_count` series. */
  function isExposed(name: string): boolean {
    if (exposed.has(name)) return true
    const family = name.replace(/_(bucket|sum|count)$/, '')
    return family !== name && exposed.get(family) === 'histogram'
  }

  test('promtool check rules accepts the alert rules', { skip: noPromtool }, () => {
    const { status, output } = run(['check', 'rules', ALERTS])
    assert.equal(status, 0, output)
    assert.match(output, /SUCCESS: \d+ rules found/)
  })

  test('the alert rules pass their promtool unit tests', { skip: noPromtool }, () => {
    const { status, output } = run(['test', 'rules', ALERT_TESTS])
    assert.equal(status, 0, output)
  })

  test('every metric an alert reads is one the gateway exposes (store errors included)', () => {
    const doc = parse(readFileSync(ALERTS, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }
    const rules = doc.groups.flatMap((g) => g.rules)
    assert.ok(rules.length >= 8)
    for (const rule of rules) {
      const names = metricsIn(rule.expr)
      assert.ok(names.length > 0, `${rule.alert} reads a metric`)
      for (const name of names) assert.ok(isExposed(name), `${rule.alert} reads ${name}, which /metrics does not expose`)
    }
    const alerts = rules.map((r) => r.alert)
    for (const signal of ['AAuthGatewayServerErrors', 'AAuthGatewayChallengeRatioHigh', 'AAuthGatewayDenyRatioHigh', 'AAuthGatewayLatencyHigh', 'AAuthGatewayJwksFetchFailing', 'AAuthGatewayStoreErrors', 'AAuthGatewayConfigReloadFailed']) {
      assert.ok(alerts.includes(signal), signal)
    }
  })

  test('the dashboard is JSON and every metric it queries exists in /metrics', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: unknown[] }
    assert.equal(dashboard.uid, 'aauth-gateway')
    const expressions = dashboardExpressions(dashboard.panels)
    assert.ok(expressions.length >= 20, `${expressions.length} queries`)
    const queried = new Set(expressions.flatMap(metricsIn))
    for (const name of queried) assert.ok(isExposed(name), `the dashboard queries ${name}, which /metrics does not expose`)
    for (const golden of [
      'aauth_gateway_requests_total',
      'aauth_gateway_request_duration_seconds_bucket',
      'aauth_gateway_jwks_fetch_total',
      'aauth_gateway_store_errors_total',
      'aauth_gateway_config_last_reload_successful',
      'aauth_gateway_requests_in_flight',
    ]) {
      assert.ok(queried.has(golden), `the dashboard shows ${golden}`)
    }
  })
})
