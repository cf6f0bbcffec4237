import type { DecisionLog } from '../log/decision.js'
import { Delegate } from './delegate.js'
import { Printer, type StepResult, type Write } from './print.js'
import { startStack, type DemoStack } from './stack.js'
import { STEPS } from './steps.js'

/** What the steps share: the running servers, the printer, and the delegates with their tokens. */
export interface StepContext {
  stack: DemoStack
  print: Printer
  delegates: { first: Delegate; second: Delegate; revoked: Delegate }
  /** Tokens obtained along the way, by name (e.g. `person`, `auth`). */
  tokens: Map<string, string>
  /** Prints a ✓/✗ line; a ✗ fails the step. Returns `ok`. */
  check(ok: boolean, message: string): boolean
}

export interface Step {
  title: string
  description: string
  run(t: StepContext): Promise<void>
}

export interface DemoResult {
  passed: boolean
  results: StepResult[]
}

const INTRO = [
  'This demo runs, on loopback, an agent server, a person server, an echo backend and',
  'aauth-gateway in front of it, and shows the agent delegation flow end to end:',
  '1. The agent server publishes its JWKS and issues aa-agent+jwt tokens to delegates',
  '2. Each delegate has its own key; its agent token binds that key to the parent agent',
  '3. The gateway verifies every signed request and tells the backend who is calling',
  '   (X-AAuth-Agent = the agent server, X-AAuth-Agent-Delegate = the delegate)',
  '4. Broken, expired or revoked credentials are refused before the backend sees them',
  '5. A route needing authorization leads the delegate from person token to auth token',
]

/** Runs the whole scenario, writing the transcript to `write`. Every server is closed before it resolves. */
export async function runDemo(write: Write = (text) => void process.stdout.write(text)): Promise<DemoResult> {
  const print = new Printer(write)
  print.banner('Agent Delegation Demo (aauth-gateway)', INTRO)
  const log: DecisionLog = { write: (entry) => print.decision(entry) }
  const stack = await startStack(log)
  const results: StepResult[] = []
  try {
    print.line(`Agent server:  ${stack.agentServer.origin}   (issues aa-agent+jwt)`)
    print.line(`Person server: ${stack.personServer.origin}   (issues aa-person+jwt, aa-auth+jwt; person: ${stack.personServer.person})`)
    print.line(`Backend:       ${stack.backend.url}   (echoes what it receives)`)
    print.line(`Gateway:       ${stack.resource}   (the resource; config in ${stack.dir})`)
    const t: StepContext = {
      stack,
      print,
      delegates: { first: new Delegate('delegate-1'), second: new Delegate('delegate-2'), revoked: new Delegate('revoked-delegate-3') },
      tokens: new Map(),
      check: () => true,
    }
    for (const [i, step] of STEPS.entries()) results.push(await runStep(t, `TEST ${i + 1}: ${step.title}`, step))
  } finally {
    await stack.close()
  }
  print.summary(results)
  return { passed: results.every((r) => r.passed), results }
}

async function runStep(t: StepContext, title: string, step: Step): Promise<StepResult> {
  t.print.banner(title, [`Description: ${step.description}`])
  let passed = true
  const check = (ok: boolean, message: string): boolean => {
    t.print.check(ok, message)
    passed &&= ok
    return ok
  }
  try {
    await step.run({ ...t, check })
  } catch (err) {
    check(false, `step failed: ${(err as Error).message}`)
  }
  t.print.line()
  t.print.line(passed ? `✓ ${title.replace(':', ' PASSED:')}` : `✗ ${title.replace(':', ' FAILED:')}`)
  return { title, passed }
}
