import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node as YamlNode, type YAMLError } from 'yaml'
import type { z } from 'zod'
import type { ConfigProblem } from '../errors.js'

/**
 * YAML reading shared by the config file, policy files and policy test files: every document, with
 * each schema problem mapped back to the line of the node it concerns.
 */

export type YamlPath = readonly (string | number)[]

export interface YamlDoc {
  readonly root: YamlNode
  readonly value: unknown
}

export interface YamlFile {
  readonly file: string
  /** Each non-empty document, in file order: its root node and its plain JS value. */
  readonly docs: readonly YamlDoc[]
  /** 1-based line of a source offset; 0 when unknown. */
  lineAt(offset: number | undefined): number
}

/**
 * Parses every `---`-separated document. Syntax errors go to `problems`, and a document with
 * one is left out so that the others are still checked.
 */
export function readYamlFile(text: string, file: string, problems: ConfigProblem[]): YamlFile {
  const counter = new LineCounter()
  const lineAt = (offset: number | undefined): number =>
    offset === undefined ? 0 : counter.linePos(offset).line
  const report = (errors: readonly YAMLError[]): boolean => {
    for (const e of errors) problems.push({ file, line: lineAt(e.pos[0]), key: '', message: firstLine(e.message) })
    return errors.length === 0
  }
  const all = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true })
  if ('empty' in all) {
    report(all.errors)
    return { file, docs: [], lineAt }
  }
  const docs = all.flatMap((d) => {
    const value = report(d.errors) ? toJS(d) : null
    // An empty document (between two `---`, or only comments) is a null scalar: nothing to read.
    return value === null || value === undefined || d.contents === null ? [] : [{ root: d.contents as YamlNode, value }]
  })
  return { file, docs, lineAt }

  // toJS throws on alias bombs (more than yaml's maxAliasCount expansions): a problem, not a crash.
  function toJS(d: (typeof all)[number]): unknown {
    try {
      return d.toJS()
    } catch (err) {
      problems.push({ file, line: lineAt(d.contents?.range?.[0]), key: '', message: (err as Error).message })
      return null
    }
  }
}

/** The node at `path` under `root`, if it exists. */
export function nodeAt(root: YamlNode, path: YamlPath): YamlNode | undefined {
  let node: unknown = root
  for (const step of path) {
    if (isMap(node) || (isSeq(node) && typeof step === 'number')) node = node.get(step, true)
    else return undefined
  }
  return (node ?? undefined) as YamlNode | undefined
}

/** The line of the key `key` in the map at `path` (where a reader looks for a rule or a typo). */
export function keyLine(y: YamlFile, root: YamlNode, path: YamlPath, key: string): number {
  const map = nodeAt(root, path)
  const pair = isMap(map) ? map.items.find((p) => isScalar(p.key) && p.key.value === key) : undefined
  const node = (pair?.key ?? map) as YamlNode | undefined
  return y.lineAt(node?.range?.[0])
}

/** Parse options for zod: a missing key says so, instead of "expected string, received undefined". */
export const ZOD_PARSE = {
  error: (issue: { code?: string; input?: unknown }): string | undefined =>
    issue.code === 'invalid_type' && issue.input === undefined ? 'missing required key' : undefined,
}

/**
 * One problem per zod issue. `base` is where the validated value sits in the document and
 * prefixes the reported key; a missing key points at its nearest existing parent.
 */
export function zodProblems(y: YamlFile, root: YamlNode, base: YamlPath, error: z.ZodError): ConfigProblem[] {
  return error.issues.flatMap((issue) => {
    const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))]
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({
        file: y.file,
        line: keyLine(y, root, path, k),
        key: [...path, k].join('.'),
        message: 'unknown key',
      }))
    }
    let line = 0
    for (let n = path.length; n >= 0 && line === 0; n--) {
      line = y.lineAt(nodeAt(root, path.slice(0, n))?.range?.[0])
    }
    return [{ file: y.file, line, key: path.join('.'), message: issue.message }]
  })
}

/** Shape and expression problems are found in separate passes; report them in reading order. */
export function inLineOrder(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.sort((a, b) => a.line - b.line)
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s
}
