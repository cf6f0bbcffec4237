import type { Duplex } from 'node:stream'
import { FrameReader, Op, decodeOp, encodeAnswers, type StoreAnswer, type StoreOp } from './ipc-protocol.js'
import type { StateStore } from './types.js'

/** Told of every batch answered: how many operations one read carried (the batching factor). */
export type BatchObserver = (operations: number) => void

/**
 * Answers one worker's `IpcStateStore` (src/store/ipc-client.ts) from `store`, the StateStore
 * the primary holds (docs/scaling.md "Shared state"), on `channel`, the primary's end of that
 * worker's store channel. A read's operations run in the order the worker asked for them, and
 * since the memory stores answer synchronously, they all run within one turn of the primary's
 * event loop: no other worker's operation can come in between `remember`'s check and its write,
 * so two workers can never both record the same signature. The answers go back in one write.
 * A corrupt stream closes the channel (the worker then fails its operations: 503). Returns a
 * function that stops answering.
 */
export function serveStateStore(store: StateStore, channel: Duplex, observe?: BatchObserver): () => void {
  const reader = new FrameReader()
  const onData = (chunk: Buffer): void => {
    let bodies: Buffer[]
    try {
      bodies = reader.push(chunk)
    } catch (err) {
      channel.destroy(err instanceof Error ? err : new Error(String(err)))
      return
    }
    if (bodies.length === 0) return
    observe?.(bodies.length)
    const answers: [number, StoreAnswer][] = []
    let later: Promise<void>[] | undefined
    for (const body of bodies) {
      let op: StoreOp
      try {
        op = decodeOp(body)
      } catch (err) {
        channel.destroy(err instanceof Error ? err : new Error(String(err)))
        return
      }
      let value: unknown
      try {
        value = run(store, op)
      } catch (err) {
        answers.push([op.id, { ok: false, error: errorText(err) }])
        continue
      }
      if (value instanceof Promise) {
        // A store that answers asynchronously: keep the slot, fill it in when it settles.
        const slot = answers.length
        const id = op.id
        answers.push([id, { ok: false, error: 'pending' }])
        ;(later ??= []).push(
          value.then(
            (v: unknown) => void (answers[slot] = [id, { ok: true, value: v as never }]),
            (err: unknown) => void (answers[slot] = [id, { ok: false, error: errorText(err) }]),
          ),
        )
      } else {
        answers.push([op.id, { ok: true, value: value as never }])
      }
    }
    // A worker that died meanwhile cannot be answered (its requests died with it); the write
    // then fails with an 'error' on the channel, which is ignored below.
    const reply = (): void => void (channel.writable && channel.write(encodeAnswers(answers)))
    if (later === undefined) reply()
    else void Promise.all(later).then(reply)
  }
  const onError = (): void => undefined
  channel.on('data', onData)
  channel.on('error', onError)
  return () => {
    channel.off('data', onData)
    channel.destroy()
  }
}

function run(store: StateStore, op: StoreOp): unknown {
  switch (op.op) {
    case Op.ReplayRemember:
      return store.replay.remember(op.key, op.a, op.group)
    case Op.RevokedRemember:
      return store.revoked.remember(op.key, op.a, op.group)
    case Op.ReplayHas:
      return store.replay.has(op.key)
    case Op.RevokedHas:
      return store.revoked.has(op.key)
    case Op.RateHit:
      return store.rates.hit(op.key, op.a, op.b)
    default:
      throw new Error(`unknown store operation ${String(op.op)}`)
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
