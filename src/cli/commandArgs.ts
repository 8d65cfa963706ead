import { type ParseArgsConfig, parseArgs } from "node:util"

/** The `options` of `parseArgs`; node does not export its name. */
type OptionsConfig = NonNullable<ParseArgsConfig["options"]>

/** What {@link parseCommandArgs} returns for `options`: typed values and the positionals. */
export type CommandArgs<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; strict: true; allowPositionals: true; options: O }>
>

/**
 * Parses a command's arguments the way every `agenthost` command does: unknown flags are usage errors, and
 * positionals are allowed (the command decides how many it takes).
 *
 * @example
 * const { values, positionals } = parseCommandArgs(args, { json: { type: "boolean" }, ...CLIENT_FLAGS })
 */
export function parseCommandArgs<const O extends OptionsConfig>(
  args: ReadonlyArray<string>,
  options: O,
): CommandArgs<O> {
  return parseArgs({ args: [...args], strict: true, allowPositionals: true, options })
}
