import { Socket } from 'node:net'
import { IpcStateStore, STORE_CHANNEL_FD } from '../../src/store/ipc-client.js'

/**
 * A forked child holding an IpcStateStore, driven by the test in ipc.test.ts: each `run` message
 * names store operations to start together (in one event-loop turn, hence one batch), and the
 * child answers with every outcome (or the error message of each that failed) and how many reads of
 * store answers it made meanwhile.
 */
interface Run {
  test: 'run'
  ops: Array<['remember' | 'has' | 'hit', string]>
}

if (process.send !== undefined) {
  const channel = new Socket({ fd: STORE_CHANNEL_FD, readable: true, writable: true })
  const store = new IpcStateStore({ channel, timeoutMs: Number(process.argv[2] ?? 1000) })
  let replies = 0
  channel.on('data', () => replies++)
  process.on('message', (message: unknown) => {
    if ((message as { test?: unknown }).test !== 'run') return
    replies = 0
    const { ops } = message as Run
    const started = ops.map(([op, key]) => {
      const p = op === 'remember' ? store.replay.remember(key, 60) : op === 'has' ? store.replay.has(key) : store.rates.hit(key, 5, 60)
      return Promise.resolve(p).then(
        (value) => ({ value }),
        (err: Error) => ({ error: `${err.name}: ${err.message}` }),
      )
    })
    void Promise.all(started).then((outcomes) => process.send?.({ test: 'outcomes', outcomes, replies }))
  })
  process.on('disconnect', () => void store.close())
}
