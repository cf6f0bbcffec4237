import type { IncomingMessage } from 'node:http'
import { LocalReplyError } from '../errors.js'

/**
 * Buffers a request body up to `limit` bytes (needed only to check `Content-Digest`, RFC 9530).
 * A declared or actual size beyond it is a 413; the rest of the body is not read.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) return Promise.reject(tooLarge(limit))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        req.pause()
        reject(tooLarge(limit))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size))
    }
    const onError = (err: Error): void => {
      cleanup()
      reject(new LocalReplyError('bad_request', `request body could not be read: ${err.message}`))
    }
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

function tooLarge(limit: number): LocalReplyError {
  return new LocalReplyError('body_too_large', `request body exceeds ${limit} bytes`)
}
