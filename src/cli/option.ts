/** `--name value` options, the only form the CLI takes. */
export function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`)
  return i === -1 ? undefined : args[i + 1]
}
