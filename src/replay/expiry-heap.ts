/**
 * A binary min-heap of keys ordered by expiry time: the soonest to expire is always on top, so a
 * store reclaims expired entries by popping from the top and knows when the next room frees up.
 *
 * Replay entries all live the same time, so they arrive in expiry order: each push then stops at
 * once (its parent expires no later) and costs O(1); only pops pay O(log n). Revocations live
 * until their token's `exp` and arrive in any order, which is what the heap is for.
 */
export class ExpiryHeap {
  // Parallel arrays rather than an array of objects: no allocation per entry on the hot path.
  private readonly expiries: number[] = []
  private readonly keys: string[] = []

  get size(): number {
    return this.keys.length
  }

  /** The soonest expiry held, or undefined when empty. */
  peekExpiry(): number | undefined {
    return this.expiries[0]
  }

  push(key: string, expiresAt: number): void {
    let i = this.keys.length
    this.keys.push(key)
    this.expiries.push(expiresAt)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.expiryAt(parent) <= expiresAt) break
      this.move(parent, i)
      i = parent
    }
    this.keys[i] = key
    this.expiries[i] = expiresAt
  }

  /** Removes and returns the entry on top when it has expired at `now`; undefined otherwise. */
  popExpired(now: number): { key: string; expiresAt: number } | undefined {
    const top = this.expiries[0]
    if (top === undefined || top > now) return undefined
    const key = this.keys[0] as string
    const lastKey = this.keys.pop() as string
    const lastExpiry = this.expiries.pop() as number
    if (this.keys.length > 0) this.siftDown(lastKey, lastExpiry)
    return { key, expiresAt: top }
  }

  /** Places `key` from the root down to where both children expire no sooner. */
  private siftDown(key: string, expiresAt: number): void {
    const n = this.keys.length
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && this.expiryAt(right) < this.expiryAt(left) ? right : left
      if (this.expiryAt(child) >= expiresAt) break
      this.move(child, i)
      i = child
    }
    this.keys[i] = key
    this.expiries[i] = expiresAt
  }

  private expiryAt(i: number): number {
    return this.expiries[i] as number
  }

  private move(from: number, to: number): void {
    this.keys[to] = this.keys[from] as string
    this.expiries[to] = this.expiries[from] as number
  }
}
