import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'

/** One PEM certificate block (RFC 7468 §5: the strict form is what x5u chains and CA files use). */
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\r\n]+[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/g

/** The most certificates read from one chain or file: a chain longer than this is not a chain we follow. */
export const MAX_CERTIFICATES = 10

/**
 * The certificates of a PEM text, in order (RFC 7517 §4.6 / RFC 7468). Throws with a plain
 * message when there is none, too many, or one does not parse; node:crypto does the DER.
 */
export function pemCertificates(text: string): X509Certificate[] {
  const blocks = text.match(PEM_BLOCK) ?? []
  if (blocks.length === 0) throw new Error('no PEM certificate found')
  if (blocks.length > MAX_CERTIFICATES) throw new Error(`more than ${MAX_CERTIFICATES} certificates`)
  return blocks.map((block) => {
    try {
      return new X509Certificate(block)
    } catch {
      throw new Error('a certificate does not parse')
    }
  })
}

/**
 * `trust.x509_anchors`: every certificate of every file, each a CA (basicConstraints cA), read
 * once per snapshot (docs/configuration.md). Throws with the file named, for the load report.
 */
export async function loadX509Anchors(files: readonly string[]): Promise<X509Certificate[]> {
  const anchors: X509Certificate[] = []
  for (const file of files) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch {
      throw new Error(`cannot read ${file}`)
    }
    let certs: X509Certificate[]
    try {
      certs = pemCertificates(text)
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`)
    }
    for (const cert of certs) {
      if (!cert.ca) throw new Error(`${file}: ${cert.subject.replace(/\n/g, ', ')} is not a CA certificate`)
      anchors.push(cert)
    }
  }
  return anchors
}
