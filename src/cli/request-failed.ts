/** A failure of `aauth-gateway request` that is neither a usage error nor an HTTP answer: exit 2 with the message. */
export class RequestFailed extends Error {}
