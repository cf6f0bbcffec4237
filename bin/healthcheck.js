#!/usr/bin/env node
// The container health check (Dockerfile HEALTHCHECK): GET /readyz on the admin listener, exit 0
// when it answers 200, 1 otherwise. The address is AAUTH_ADMIN (host:port, what
// config/gateway.yaml reads for `admin`), else the config's default 127.0.0.1:9091. A wildcard
// bind address (0.0.0.0, [::]) is reached through loopback.
const admin = process.env.AAUTH_ADMIN || '127.0.0.1:9091'
const colon = admin.lastIndexOf(':')
const host = { '0.0.0.0': '127.0.0.1', '[::]': '[::1]', '': '127.0.0.1' }[admin.slice(0, colon)] ?? admin.slice(0, colon)
fetch(`http://${host}:${admin.slice(colon + 1)}/readyz`, { signal: AbortSignal.timeout(2500) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
)
