import { LocalReplyError } from '../errors.js'
import { checkContentDigest } from '../signature/digest.js'
import type { RequestContext } from './context.js'
import { routeOf } from './route.js'

/**
 * Checks the body against `Content-Digest` (RFC 9530) when the signature covers it. It runs
 * after access and policy: the signature already proved the digest *header* is the agent's, so
 * the body is read only for requests that would be let through, and a refused one never makes
 * the gateway wait for, or hold, its upload.
 */
export async function checkBodyDigest(ctx: RequestContext): Promise<void> {
  if (ctx.signature === null || !ctx.signature.components.includes('content-digest')) return
  ctx.body = await readBody(ctx, ctx.snapshot.maxBodyBytes, routeOf(ctx).timeoutMs)
  checkContentDigest(ctx.signed.headers['content-digest'], ctx.body)
}

/**
 * Buffers the request body up to `limit` bytes (also for the authorization endpoint, whose body it reads). A declared or actual size beyond it is a 413;
 * a client that sends nothing for `idleMs` is answered 408; neither is read further.
 */
export function readBody(ctx: RequestContext, limit: number, idleMs: number): Promise<Buffer> {
  const { req } = ctx
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) return Promise.reject(new LocalReplyError('body_too_large', `request body exceeds ${limit} bytes`))
  if (!ctx.hasBody) return Promise.resolve(Buffer.alloc(0))
  // The client may have left while earlier stages ran (key fetches, verification): its
  // request then never emits another event, and waiting for one would hold it for `idleMs`.
  if (req.destroyed) return Promise.reject(new LocalReplyError('bad_request', 'the connection closed before the body was read'))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const fail = (err: LocalReplyError): void => {
      cleanup()
      req.pause()
      reject(err)
    }
    const idle = (): void => fail(new LocalReplyError('body_timeout', `no request body data for ${idleMs / 1000} s`))
    const timer = setTimeout(idle, idleMs)
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) return fail(new LocalReplyError('body_too_large', `request body exceeds ${limit} bytes`))
      chunks.push(chunk)
      timer.refresh()
    }
    const onEnd = (): void => {
      cleanup()
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size))
    }
    const onError = (err: Error): void => fail(new LocalReplyError('bad_request', `request body could not be read: ${err.message}`))
    const cleanup = (): void => {
      clearTimeout(timer)
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}
