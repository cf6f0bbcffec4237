import { STORE_REPLY, isStoreRequest, type StoreOp, type StoreReply, type StoreResult } from './ipc-protocol.js'
import type { StateStore } from './types.js'

/** The primary's side of one worker's IPC channel: a `cluster.Worker` or a forked `ChildProcess`. */
export interface WorkerChannel {
  send(message: unknown): boolean
  on(event: 'message', listener: (message: unknown) => void): unknown
  off(event: 'message', listener: (message: unknown) => void): unknown
}

/** Told of every batch answered: how many operations one message carried (the batching factor). */
export type BatchObserver = (operations: number) => void

/**
 * Answers one worker's `IpcStateStore` (src/store/ipc-client.ts) from `store`, the StateStore
 * the primary holds (docs/scaling.md "Shared state"). A batch's operations run in the order the
 * worker asked for them, and since the memory stores answer synchronously, a whole batch runs
 * within one turn of the primary's event loop: no other worker's operation can come in between
 * `remember`'s check and its write, so two workers can never both record the same signature.
 * The answers go back in one message. Returns a function that stops answering.
 */
export function serveStateStore(store: StateStore, channel: WorkerChannel, observe?: BatchObserver): () => void {
  const onMessage = (message: unknown): void => {
    if (!isStoreRequest(message)) return
    observe?.(message.ops.length)
    const results: StoreResult[] = []
    let later: Promise<void>[] | undefined
    for (const op of message.ops) {
      let value: unknown
      try {
        value = run(store, op)
      } catch (err) {
        results.push([op[0], 0, errorText(err)])
        continue
      }
      if (value instanceof Promise) {
        // A store that answers asynchronously: keep the slot, fill it in when it settles.
        const slot = results.length
        results.push([op[0], 0, 'pending'])
        ;(later ??= []).push(
          value.then(
            (v: unknown) => void (results[slot] = [op[0], 1, v]),
            (err: unknown) => void (results[slot] = [op[0], 0, errorText(err)]),
          ),
        )
      } else {
        results.push([op[0], 1, value])
      }
    }
    const reply = (): void => {
      const answer: StoreReply = { aauth: STORE_REPLY, results }
      // A worker that died meanwhile cannot be answered (its requests died with it); Node
      // reports that as an 'error' event on the worker, which the primary logs.
      channel.send(answer)
    }
    if (later === undefined) reply()
    else void Promise.all(later).then(reply)
  }
  channel.on('message', onMessage)
  return () => void channel.off('message', onMessage)
}

function run(store: StateStore, op: StoreOp): unknown {
  switch (op[1]) {
    case 'replay.remember':
      return store.replay.remember(op[2], op[3], op[4] ?? undefined)
    case 'revoked.remember':
      return store.revoked.remember(op[2], op[3], op[4] ?? undefined)
    case 'replay.has':
      return store.replay.has(op[2])
    case 'revoked.has':
      return store.revoked.has(op[2])
    case 'rates.hit':
      return store.rates.hit(op[2], op[3], op[4])
    default:
      throw new Error(`unknown store operation ${String((op as readonly unknown[])[1])}`)
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
