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
  usage: 'aauth-gateway keygen [--alg Ed25519|ES256] [--kid ID] [--out FILE [--force]] [--public]',
  help: [
    '  --alg ALG     Ed25519 (default) or ES256',
    '  --kid ID      key id (default: the RFC 7638 thumbprint)',
    '  --out FILE    write the private JWK to FILE (mode 0600) instead of stdout',
    '  --force       overwrite FILE when it exists',
    '  --public      print the public JWK to stdout (with --out: as well as writing the private one)',
  ].join('\n'),
  options: {
    alg: { type: 'string', default: 'Ed25519' },
    kid: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean', default: false },
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

/** Every `aauth-gateway` command, in the order `help` lists them. */
export const COMMANDS: readonly Command[] = [serve, check, testPolicies, keygen, demo]
