import type { Identity } from '../identity.js'

/** Longest hint copied: an email address or account name, never a document. */
const MAX_HINT_LENGTH = 256
/** Visible characters and spaces only: the hint is shown to the person at their person server. */
const HINT = /^[^\x00-\x1f\x7f]+$/

/**
 * The `login_hint` a resource token carries (AAuth -11 §6.7.1 "Resource Token Structure"): the
 * presented token's own `login_hint` claim when it has one, else a `login_hint` query parameter
 * of the request (the agent saying whom the access is for). The person server may ignore it,
 * and the auth token is checked on its own claims whatever the hint said, so an unsigned query
 * parameter is good enough for it. Values that are empty, too long or hold control characters
 * are dropped.
 */
export function loginHintOf(presented: Identity, query: string): string | undefined {
  const claim = presented.claims.login_hint
  if (typeof claim === 'string') return acceptable(claim)
  if (!query.includes('login_hint=')) return undefined
  const value = new URLSearchParams(query.slice(1)).get('login_hint')
  return value === null ? undefined : acceptable(value)
}

function acceptable(hint: string): string | undefined {
  return hint.length <= MAX_HINT_LENGTH && HINT.test(hint) ? hint : undefined
}
