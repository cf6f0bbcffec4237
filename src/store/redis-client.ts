import { Redis, type RedisOptions } from 'ioredis'

/**
 * Options for both Redis connections (docs/state-store.md "When the store fails"). The aim: an
 * operation either answers within `store.timeout` or fails, never waits for a reconnect.
 *  - `enableOfflineQueue: false`: while not connected a command fails at once instead of
 *    queueing (a queue would hold requests until Redis came back, i.e. hang them);
 *  - `commandTimeout`: a connected but silent Redis fails the command after the timeout;
 *  - `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false`: a command in flight
 *    when the connection dropped is failed, not sent again later (a late `SET NX` would record
 *    a signature whose request was already answered 503);
 *  - `socketTimeout`: a connection that stops answering altogether (a half-open TCP connection)
 *    is destroyed and reconnected rather than trusted;
 *  - `retryStrategy`: reconnect for ever, at most 0.5 s apart, so recovery needs no restart;
 *  - `enableAutoPipelining`: the commands of concurrent requests go out in one write.
 */
export function redisOptions(timeoutMs: number): RedisOptions {
  return {
    connectionName: 'aauth-gateway',
    enableOfflineQueue: false,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    socketTimeout: Math.max(2000, 8 * timeoutMs),
    connectTimeout: Math.max(1000, 4 * timeoutMs),
    retryStrategy: (attempt: number) => Math.min(50 * attempt, 500),
    enableAutoPipelining: true,
    lazyConnect: true,
  }
}

/** A connection to `url` (`redis://` or `rediss://`, credentials and database as in the URL). */
export function connectRedis(url: string, timeoutMs: number): Redis {
  return new Redis(url, redisOptions(timeoutMs))
}

/** `url` without its user and password, for log lines. */
export function describeRedisUrl(url: string): string {
  const u = new URL(url)
  return `${u.protocol}//${u.host}${u.pathname === '' ? '' : u.pathname}`
}
