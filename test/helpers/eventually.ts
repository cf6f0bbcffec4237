/**
 * Waits until `condition` holds, checking every `intervalMs`, and fails naming `what` when it
 * still does not after `timeoutMs`: a test waits as long as the behaviour takes, never a fixed time.
 */
export async function eventually(
  what: string,
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 5000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
