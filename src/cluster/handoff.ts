import type { Worker } from 'node:cluster'

/** Node's internal cluster message (`cmd: 'NODE_CLUSTER'`), as far as a handoff needs it. */
interface ClusterMessage {
  cmd?: unknown
  act?: unknown
  seq?: unknown
  ack?: unknown
}

/**
 * Makes sure a connection the cluster primary handed to a worker that died before taking it is
 * served by another worker, instead of hanging (docs/scaling.md "When a worker dies").
 *
 * In round-robin mode the primary accepts each connection and sends it to the next free worker
 * with a `newconn` message; the worker acknowledges (`ack` = that message's `seq`) before it
 * reads a byte, and the primary closes its copy on `accepted: true` or hands the connection to
 * another worker on `accepted: false`. A worker killed outright (SIGKILL, the OOM killer) is
 * still "free" for the few milliseconds the kernel takes to tear it down, so a connection that
 * arrives then is sent to it, never acknowledged, and kept open by the primary for ever: the
 * client waits until its own timeout. The gateway's kill test lost one connection per kill that way.
 *
 * So the primary notes every `newconn` it sends to `worker` and every acknowledgement it gets.
 * Once the worker has exited and its IPC channel is read to the end (ChildProcess 'close': a
 * missing acknowledgement then means the worker never took the connection), it
 *  1. completes the channel's 'disconnect' if Node has not: Node postpones it while a handle it
 *     sent waits for the receiving process's low-level receipt, which a dead worker never sends,
 *     and cluster takes a worker out of the round-robin on that event (or at 'exit' if the
 *     channel had already closed);
 *  2. answers each unacknowledged connection itself with `accepted: false`, and Node's
 *     round-robin hands it to another worker. With no other worker listening it answers
 *     `accepted: true` instead, which closes the connection: the client sees it end at once.
 *
 * This relies on the shape of Node's internal cluster messages (`cmd: 'NODE_CLUSTER'`, `act`,
 * `seq`, `ack`, `accepted`), unchanged since round-robin came in;
 * test/cli/serve-workers.test.ts fails if it changes.
 */
export function redistributeOnDeath(worker: Worker, othersListening: () => boolean): void {
  const proc = worker.process
  const unacknowledged = new Set<number>()
  const send = proc.send.bind(proc) as (...args: unknown[]) => boolean
  proc.send = ((...args: unknown[]): boolean => {
    const m = args[0] as ClusterMessage | undefined
    if (m?.cmd === 'NODE_CLUSTER' && m.act === 'newconn' && typeof m.seq === 'number') unacknowledged.add(m.seq)
    return send(...args)
  }) as typeof proc.send
  proc.on('internalMessage', (message: ClusterMessage) => {
    if (message.cmd === 'NODE_CLUSTER' && typeof message.ack === 'number') unacknowledged.delete(message.ack)
  })
  let disconnected = false
  proc.once('disconnect', () => (disconnected = true))
  proc.once('close', () => {
    if (!disconnected) proc.emit('disconnect')
    const accepted = !othersListening()
    for (const seq of [...unacknowledged]) proc.emit('internalMessage', { cmd: 'NODE_CLUSTER', ack: seq, accepted })
    unacknowledged.clear()
  })
}
