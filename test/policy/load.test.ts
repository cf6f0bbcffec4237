import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { ConfigError } from '../../src/errors.js'
import { compilePolicySources, loadPolicyDir } from '../../src/policy/load.js'
import { problemsOf } from '../helpers/policy.js'

const where = (err: ConfigError): string[] => err.problems.map((p) => `${p.file}:${p.line} ${p.key}: ${p.message}`)

describe('policy file format', () => {
  test('a file holds one policy per document, separated by ---', () => {
    const policies = compilePolicySources([
      { file: 'a.yaml', text: `name: one\nrules:\n  - allow: 'true'\n---\nname: two\nrules:\n  - deny: 'false'\n` },
    ])
    assert.deepEqual([...policies.keys()], ['one', 'two'])
    assert.deepEqual([policies.get('two')?.line, policies.get('two')?.rules[0]?.line], [5, 7])
  })

  test('a document may also be a list of policies', () => {
    const text = `- name: one\n  rules:\n    - allow: 'true'\n- name: two\n  description: second\n  rules:\n    - require: 'true'\n`
    const policies = compilePolicySources([{ file: 'a.yaml', text }])
    assert.deepEqual([...policies.keys()], ['one', 'two'])
    assert.equal(policies.get('two')?.rules[0]?.line, 7)
  })

  test('rules keep their kind, source, file, line and order', () => {
    const text = `name: p\nrules:\n  - deny: 'false'\n  - allow: |\n      aauth.agent == "x"\n`
    const rules = compilePolicySources([{ file: 'a.yaml', text }]).get('p')?.rules ?? []
    assert.deepEqual(
      rules.map((r) => [r.kind, r.source, r.file, r.line]),
      [['deny', 'false', 'a.yaml', 3], ['allow', 'aauth.agent == "x"', 'a.yaml', 4]],
    )
  })

  test('empty documents and comments are ignored', () => {
    const policies = compilePolicySources([{ file: 'a.yaml', text: `# nothing\n---\n---\nname: p\nrules: [{ allow: 'true' }]\n` }])
    assert.deepEqual([...policies.keys()], ['p'])
  })
})

describe('policy file problems', () => {
  test('an unknown key in a policy is an error with its line', () => {
    const err = problemsOf({ 'p.yaml': `name: p\nrule:\n  - allow: 'true'\n` })
    assert.deepEqual(where(err), ['p.yaml:1 rules: missing required key', 'p.yaml:2 rule: unknown key'])
  })

  test('an unknown key in a rule is an error with its line, reported once', () => {
    const err = problemsOf({ 'p.yaml': `name: p\nrules:\n  - allow: 'true'\n  - alow: 'true'\n` })
    assert.deepEqual(where(err), ['p.yaml:4 rules.1.alow: unknown key'])
  })

  test('a rule with two kinds, or none, is an error', () => {
    const err = problemsOf({ 'p.yaml': `name: p\nrules:\n  - { allow: 'true', deny: 'false' }\n  - {}\n` })
    assert.deepEqual(err.problems.map((p) => [p.line, p.message]), [
      [3, 'a rule is exactly one of allow, deny or require'],
      [4, 'a rule is exactly one of allow, deny or require'],
    ])
  })

  test('an unquoted non-string expression is an error asking for a string', () => {
    const [p] = problemsOf({ 'p.yaml': `name: p\nrules:\n  - allow: true\n` }).problems
    assert.deepEqual([p?.line, p?.key, p?.message], [3, 'rules.0.allow', 'expected a CEL expression as a string (quote it)'])
  })

  test('a policy needs a well-formed name and at least one rule', () => {
    const err = problemsOf({ 'p.yaml': `name: "has space"\nrules: []\n` })
    assert.deepEqual(err.problems.map((p) => [p.line, p.key]), [[1, 'name'], [2, 'rules']])
  })

  test('a broken expression is still reported when the same policy has a shape error', () => {
    const err = problemsOf({ 'p.yaml': `name: p\nextra: 1\nrules:\n  - allow: 'aauth.agent +'\n` })
    assert.deepEqual(err.problems.map((p) => [p.line, p.key]), [[2, 'extra'], [4, 'rules.0.allow']])
  })

  test('keys in list-form files are prefixed with the policy index', () => {
    const err = problemsOf({ 'p.yaml': `- name: a\n  rules: [{ allow: 'true' }]\n- name: b\n  rules: [{ allow: 'nope' }]\n` })
    assert.deepEqual(where(err).map((w) => w.split(':').slice(0, 2).join(':')), ['p.yaml:4 1.rules.0.allow'])
  })

  test('a YAML syntax error has its line, and other documents are still checked', () => {
    const err = problemsOf({ 'p.yaml': `name: a\nrules: [{ allow: 'nope' }]\n---\nname: b\nname: c\n` })
    assert.deepEqual(err.problems.map((p) => [p.line, p.message]), [
      [2, "`nope`: type error: Unknown variable: nope (column 1)"],
      [5, 'Map keys must be unique'],
    ])
  })

  test('a YAML alias bomb is a problem, not a crash', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n')
    assert.match(problemsOf({ 'p.yaml': bomb }).message, /^p\.yaml:1: Excessive alias count/)
  })

  test('a duplicate name across files is an error pointing at the first definition', () => {
    const err = problemsOf({
      'a.yaml': `name: p\nrules: [{ allow: 'true' }]\n`,
      'b.yaml': `# again\nname: p\nrules: [{ allow: 'true' }]\n`,
    })
    assert.deepEqual(where(err), ['b.yaml:2 name: duplicate policy name "p" (first defined at a.yaml:1)'])
  })

  test('a duplicate name within one file is an error', () => {
    const err = problemsOf({ 'a.yaml': `name: p\nrules: [{ allow: 'true' }]\n---\nname: p\nrules: [{ deny: 'true' }]\n` })
    assert.match(err.message, /^a\.yaml:4: name: duplicate policy name "p" \(first defined at a\.yaml:1\)$/)
  })
})

describe('loadPolicyDir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aauth-policies-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('reads *.yaml and *.yml, skipping test files and other files', () => {
    writeFileSync(join(dir, 'a.yaml'), `name: a\nrules: [{ allow: 'true' }]\n`)
    writeFileSync(join(dir, 'b.yml'), `name: b\nrules: [{ allow: 'true' }]\n`)
    writeFileSync(join(dir, 'a.tests.yaml'), `policy: a\ncases: []\n`)
    writeFileSync(join(dir, 'README.md'), `# not a policy\n`)
    assert.deepEqual([...loadPolicyDir(dir).keys()], ['a', 'b'])
  })

  test('problems carry the path of the file', () => {
    writeFileSync(join(dir, 'c.yaml'), `name: c\nrules: [{ allow: 'nope' }]\n`)
    assert.throws(() => loadPolicyDir(dir), (err: ConfigError) => err.problems[0]?.file === join(dir, 'c.yaml'))
    rmSync(join(dir, 'c.yaml'))
  })

  test('a missing directory is a ConfigError, not a crash', () => {
    assert.throws(() => loadPolicyDir(join(dir, 'missing')), (err) =>
      err instanceof ConfigError && /cannot read policy directory/.test(err.message))
  })
})
