import type { DestinationStream } from 'pino'

/** Fields the pretty form shows in its own columns, or leaves out as noise on a terminal. */
const SHOWN_APART = new Set(['time', 'level', 'msg', 'pid', 'hostname'])

/**
 * `log.format: pretty` (README "Metrics and logs"): each JSON line pino writes becomes
 * `HH:MM:SS.mmm LEVEL msg key=value ...`, for a person at a terminal. Deliberately small, so
 * no prettifier has to be installed in production images; the JSON form is what to ship.
 */
export function prettyLines(out: DestinationStream): DestinationStream {
  return {
    write(line: string): void {
      out.write(prettyLine(line))
    },
  }
}

export function prettyLine(line: string): string {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : ''
  const level = String(entry.level ?? '').toUpperCase().padEnd(5)
  let text = `${time} ${level} ${String(entry.msg ?? '')}`
  for (const [key, value] of Object.entries(entry)) {
    if (SHOWN_APART.has(key) || value === '' || value === undefined) continue
    text += ` ${key}=${show(value)}`
  }
  return text + '\n'
}

function show(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)
  return typeof value === 'object' && value !== null && 'stack' in value ? `\n${String(value.stack)}` : JSON.stringify(value)
}
