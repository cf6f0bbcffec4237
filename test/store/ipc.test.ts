import assert from 'node:assert/strict'
import { fork, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'
import { after, describe, test } from 'node:test'
import { MemoryKeyStore } from '../../src/replay/store.js'
import { serveStateStore } from '../../src/store/ipc-server.js'
import { STORE_CHANNEL_FD } from '../../src/store/ipc-client.js'
import { Socket } from 'node:net'
import type { RateCounter, StateStore } from '../../src/store/types.js'

// Tests run from the repository root (npm test), against the compiled fixture.
const CHILD = resolve('dist/test/store/ipc-child.js')

/**
 * A fixed-window counter, enough to show that every worker's hits land on one counter in the
 * primary. (The gateway's own memory rate counter comes with src/store/memory.ts.)
 */
function windowCounter(): RateCounter {
  const counts = new Map<string, number>()
  return {
    hit(key, limit) {
      const n = (counts.get(key) ?? 0) + 1
      counts.set(key, n)
      return { allowed: n <= limit, remaining: Math.max(0, limit - n), resetSeconds: 60 }
    },
  }
}

function primaryStore(): StateStore {
  return {
    replay: new MemoryKeyStore({ maxEntries: 10_000 }),
    revoked: new MemoryKeyStore({ maxEntries: 10 }),
    rates: windowCounter(),
    up: true,
    close: async () => undefined,
  }
}

type Outcome = { value: unknown } | { error: string }

const children: ChildProcess[] = []
function child(timeoutMs = 1000): ChildProcess {
  // stdio 4: the store channel, as the cluster primary gives each worker (src/cluster/primary.ts).
  const c = fork(CHILD, [String(timeoutMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'] })
  children.push(c)
  return c
}

/** The primary's end of `c`'s store channel. */
function channel(c: ChildProcess): Socket {
  const s = c.stdio[STORE_CHANNEL_FD]
  if (!(s instanceof Socket)) throw new Error('no store channel')
  return s
}

/** Has `c` start `ops` together, and resolves their outcomes. */
function run(c: ChildProcess, ops: Array<['remember' | 'has' | 'hit', string]>): Promise<Outcome[]> {
  return runCounted(c, ops).then((r) => r.outcomes)
}

/** `run`, also resolving how many store replies the child received. */
function runCounted(c: ChildProcess, ops: Array<['remember' | 'has' | 'hit', string]>): Promise<{ outcomes: Outcome[]; replies: number }> {
  return new Promise((done) => {
    const onMessage = (m: { test?: string; outcomes?: Outcome[]; replies?: number }): void => {
      if (m.test !== 'outcomes') return
      c.off('message', onMessage)
      done({ outcomes: m.outcomes ?? [], replies: m.replies ?? -1 })
    }
    c.on('message', onMessage)
    c.send({ test: 'run', ops })
  })
}

const outcome = (o: Outcome): unknown => ('value' in o ? (o.value as { outcome?: unknown }).outcome ?? o.value : o.error)

describe('StateStore over IPC (workers reach the primary memory store)', () => {
  after(() => {
    for (const c of children) c.kill()
  })

  test('two processes remembering the same signatures at once: each is added exactly once, the other sees a replay', async () => {
    const store = primaryStore()
    const [a, b] = [child(), child()]
    serveStateStore(store, channel(a))
    serveStateStore(store, channel(b))
    const keys = Array.from({ length: 300 }, (_, i) => `sig-${i}`)
    const ops = keys.map((k) => ['remember', k] as ['remember', string])
    const [fromA, fromB] = await Promise.all([run(a, ops), run(b, ops)])
    keys.forEach((k, i) => {
      const pair = [outcome(fromA[i] as Outcome), outcome(fromB[i] as Outcome)].sort()
      assert.deepEqual(pair, ['added', 'seen'], k)
    })
    // And a later look from either side agrees.
    const seen = await run(b, [['has', 'sig-0'], ['has', 'never-sent']])
    assert.deepEqual(seen.map(outcome), [true, false])
  })

  test('every operation started in one turn travels in one message, and is answered in one', async () => {
    const store = primaryStore()
    const c = child()
    const batches: number[] = []
    serveStateStore(store, channel(c), (n) => batches.push(n))
    const { outcomes, replies } = await runCounted(c, Array.from({ length: 500 }, (_, i) => ['remember', `k-${i}`] as ['remember', string]))
    assert.equal(outcomes.filter((o) => outcome(o) === 'added').length, 500)
    assert.deepEqual(batches, [500])
    assert.equal(replies, 1)
  })

  test('rate-limit hits from two processes count on one counter', async () => {
    const store = primaryStore()
    const [a, b] = [child(), child()]
    serveStateStore(store, channel(a))
    serveStateStore(store, channel(b))
    const hits = Array.from({ length: 4 }, () => ['hit', 'agent-1'] as ['hit', string])
    const [fromA, fromB] = await Promise.all([run(a, hits), run(b, hits)])
    const allowed = [...fromA, ...fromB].filter((o) => 'value' in o && (o.value as { allowed: boolean }).allowed).length
    assert.equal(allowed, 5, 'limit 5 holds across both processes')
  })

  test('a store that throws fails only that operation, with the reason', async () => {
    const store = primaryStore()
    const broken: StateStore = {
      ...store,
      replay: {
        remember: (key) => {
          if (key === 'bad') throw new Error('disk on fire')
          return store.replay.remember(key, 60)
        },
        has: () => Promise.reject(new Error('async failure')),
      },
    }
    const c = child()
    serveStateStore(broken, channel(c))
    const outcomes = await run(c, [['remember', 'good'], ['remember', 'bad'], ['has', 'good']])
    assert.equal(outcome(outcomes[0] as Outcome), 'added')
    assert.match(outcome(outcomes[1] as Outcome) as string, /^StoreUnreachableError: .*disk on fire/)
    assert.match(outcome(outcomes[2] as Outcome) as string, /^StoreUnreachableError: .*async failure/)
  })

  test('a primary that does not answer fails the operation after the timeout, not never', async () => {
    const c = child(200)
    const started = Date.now()
    const outcomes = await run(c, [['remember', 'x']])
    const took = Date.now() - started
    assert.match(outcome(outcomes[0] as Outcome) as string, /did not answer within 200 ms/)
    // The upper bound only shows it failed rather than hung; a loaded machine starts the child slowly.
    assert.ok(took >= 180 && took < 30_000, `failed after ${took} ms`)
  })
})

describe('the store channel when a side goes away', () => {
  after(() => {
    for (const c of children) c.kill()
  })

  test('a worker killed in the middle of a batch: the primary keeps answering the others', async () => {
    const store = primaryStore()
    const [doomed, survivor] = [child(), child()]
    let batches = 0
    serveStateStore(store, channel(doomed), () => batches++)
    serveStateStore(store, channel(survivor))
    // A batch of 5 000 operations (250 kB) takes several reads; kill the child once the first arrived.
    const exited = new Promise((resolve) => doomed.once('exit', resolve))
    doomed.send({ test: 'run', ops: Array.from({ length: 5_000 }, (_, i) => ['remember', `doomed-${i}`]) })
    while (batches === 0) await new Promise((r) => setTimeout(r, 1))
    doomed.kill('SIGKILL')
    await exited
    const outcomes = await run(survivor, [['remember', 'after-kill'], ['remember', 'after-kill']])
    assert.deepEqual(outcomes.map(outcome), ['added', 'seen'])
  })

  test('the primary end closed: waiting and later operations fail at once with a reason, none hangs', async () => {
    const c = child(60_000)
    const primaryEnd = channel(c)
    // Nothing answers: close the primary's end while the child waits.
    const pending = run(c, [['remember', 'x'], ['has', 'x']])
    await new Promise((r) => setTimeout(r, 200))
    primaryEnd.destroy()
    const started = Date.now()
    const outcomes = await pending
    assert.ok(Date.now() - started < 5000)
    for (const o of outcomes) assert.match(outcome(o) as string, /^StoreUnreachableError: .*(went away|not reachable)/)
    const later = await run(c, [['hit', 'agent']])
    assert.match(outcome(later[0] as Outcome) as string, /^StoreUnreachableError: the primary process is not reachable/)
  })
})
