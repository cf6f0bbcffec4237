import { defineCommand, type Command } from './command.js'

// Each command's implementation is imported when it runs, so `--help`, `--version` and a usage
// error answer without loading the gateway.

const serve = defineCommand({
  name: 'serve',
  summary: 'run the gateway',
  usage: 'aauth-gateway serve [--config FILE] [--echo-backend HOST:PORT]',
  help: [
    '  --config FILE              the config (default config/gateway.yaml)',
    '  --echo-backend HOST:PORT   also start the demo echo backend there (what `npm start` does)',
    '',
    'Runs until SIGTERM/SIGINT (drain). SIGHUP or a change to the config or a policy file reloads.',
  ].join('\n'),
  options: {
    config: { type: 'string', default: 'config/gateway.yaml' },
    'echo-backend': { type: 'string' },
  },
  run: async ({ values }) => (await import('./serve.js')).serve(values.config, values['echo-backend']),
})

const check = defineCommand({
  name: 'check',
  summary: 'validate the config and compile every policy',
  usage: 'aauth-gateway check [--config FILE]',
  help: '  --config FILE   the config to check (default config/gateway.yaml)\n\nExit 0 when valid; 1 with every error as file:line: message.',
  options: { config: { type: 'string', default: 'config/gateway.yaml' } },
  run: async ({ values }) => (await import('./check.js')).check(values.config),
})

const testPolicies = defineCommand({
  name: 'test-policies',
  summary: 'run the policy test cases beside the policies',
  usage: 'aauth-gateway test-policies [DIR]',
  help: '  DIR   the policy directory (default policies/)\n\nExit 0 when every case passes, 1 otherwise.',
  options: {},
  positionals: { max: 1 },
  run: async ({ positionals }) => (await import('./test-policies.js')).testPolicies(positionals[0] ?? 'policies', process.stdout),
})

const keygen = defineCommand({
  name: 'keygen',
  summary: 'write a signing key (private JWK)',
  usage: 'aauth-gateway keygen [--alg Ed25519|ES256] [--kid ID] [--out FILE [--force | --if-missing]] [--public]',
  help: [
    '  --alg ALG     Ed25519 (default) or ES256',
    '  --kid ID      key id (default: the RFC 7638 thumbprint)',
    '  --out FILE    write the private JWK to FILE (mode 0600) instead of stdout',
    '  --force       overwrite FILE when it exists',
    '  --if-missing  keep FILE when it exists (exit 0); write it otherwise (what `npm start` runs)',
    '  --public      print the public JWK to stdout (with --out: as well as writing the private one)',
  ].join('\n'),
  options: {
    alg: { type: 'string', default: 'Ed25519' },
    kid: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean', default: false },
    'if-missing': { type: 'boolean', default: false },
    public: { type: 'boolean', default: false },
  },
  run: async ({ values }) => (await import('./keygen.js')).keygen(values),
})

const demo = defineCommand({
  name: 'demo',
  summary: 'run the agent-delegation flow end to end on loopback',
  usage: 'aauth-gateway demo',
  help: 'Starts an agent server, a person server, an echo backend and the gateway on loopback and\nprints each exchange. Exit 0 when every step passed.',
  options: {},
  run: async () => (await import('./demo.js')).demo(),
})

const agentServer = defineCommand({
  name: 'agent-server',
  summary: 'run a local agent provider for development (loopback)',
  usage: 'aauth-gateway agent-server [--listen HOST:PORT] [--issuer URL] [--key FILE]',
  help: [
    '  --listen HOST:PORT   where to listen (default 127.0.0.1:8700)',
    '  --issuer URL         the issuer in its metadata and tokens (default: its own http:// origin)',
    '  --key FILE           its private JWK; created (mode 0600) when missing, so restarts keep the',
    '                       identity (default .aauth/agent-server.jwk.json)',
    '',
    'Serves /.well-known/aauth-agent.json, its JWKS and POST /delegate/token, and prints the',
    'trust lines to paste into a gateway config. Trusts any caller: development only.',
  ].join('\n'),
  options: {
    listen: { type: 'string', default: '127.0.0.1:8700' },
    issuer: { type: 'string' },
    key: { type: 'string', default: '.aauth/agent-server.jwk.json' },
  },
  run: async ({ values }) => (await import('./agent-server.js')).agentServer(values),
})

const personServer = defineCommand({
  name: 'person-server',
  summary: 'run a local person server for development (loopback, approves everything)',
  usage: 'aauth-gateway person-server [--listen HOST:PORT] [--key FILE] [--agent-server URL]...',
  help: [
    '  --listen HOST:PORT   where to listen (default 127.0.0.1:8701); its issuer is http://HOST:PORT',
    '  --key FILE           its private JWK; created (mode 0600) when missing, so restarts keep the',
    '                       identity (default .aauth/person-server.jwk.json)',
    '  --agent-server URL   an agent provider whose agent tokens it takes (repeatable;',
    '                       default http://127.0.0.1:8700, `aauth-gateway agent-server`)',
    '',
    'Serves /.well-known/aauth-person.json, its JWKS, POST /person/token and POST /auth/token, and',
    'prints the trust lines to paste into a gateway config. It approves every request for its one',
    'person automatically: development only.',
  ].join('\n'),
  options: {
    listen: { type: 'string', default: '127.0.0.1:8701' },
    key: { type: 'string', default: '.aauth/person-server.jwk.json' },
    'agent-server': { type: 'string', multiple: true, default: ['http://127.0.0.1:8700'] },
  },
  run: async ({ values }) => (await import('./person-server.js')).personServer(values),
})

const request = defineCommand({
  name: 'request',
  summary: 'send a signed AAuth request and print the answer (curl for AAuth)',
  usage: 'aauth-gateway request [-X METHOD] [--key FILE] [--hwk | --agent-server URL [--delegate NAME] [--person-server URL] | --token FILE] [-H "Name: value"]... [-d DATA|@FILE] [--authority HOST[:PORT]] URL',
  help: [
    '  -X, --request METHOD   the method (default GET, or POST with -d)',
    '  --key FILE             sign with this private JWK (default: a fresh Ed25519 key)',
    '  --hwk                  present the bare key inline (Signature-Key: hwk; the default)',
    '  --agent-server URL     get an agent token from that agent server and sign with it (jwt)',
    '  --delegate NAME        the delegate id (sub) to ask the agent server for (default cli-delegate)',
    '  --person-server URL    on a 401 asking for a person token or an auth token, get it from that',
    '                         person server (signed with the agent token) and retry (needs --agent-server)',
    '  --token FILE           present the person or auth token in FILE (jwt); --key must be its cnf key',
    '  -H, --header LINE      add a header, "Name: value" (repeatable)',
    '  -d, --data DATA        send DATA (or @FILE: the file\'s bytes) as the body, Content-Digest covered;',
    '                         content-type from -H, else application/json when DATA is JSON',
    '  --authority HOST[:PORT]  the @authority to sign (default the URL\'s; Host stays the URL\'s)',
    '',
    'Prints the answer like curl -i; on a 401 explains the challenge on stderr.',
    'Exit 0 for a 2xx answer, 1 for another status, 2 for a usage or network error.',
  ].join('\n'),
  options: {
    request: { type: 'string', short: 'X' },
    key: { type: 'string' },
    hwk: { type: 'boolean', default: false },
    'agent-server': { type: 'string' },
    delegate: { type: 'string', default: 'cli-delegate' },
    'person-server': { type: 'string' },
    token: { type: 'string' },
    header: { type: 'string', short: 'H', multiple: true },
    data: { type: 'string', short: 'd' },
    authority: { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  run: async ({ values, positionals }) => (await import('./request.js')).request(values, positionals[0] ?? ''),
})

/** Every `aauth-gateway` command, in the order `help` lists them. */
export const COMMANDS: readonly Command[] = [serve, check, testPolicies, keygen, demo, agentServer, personServer, request]
