import { statSync } from "node:fs"
import { resolve } from "node:path"
import { type ParseArgsConfig, parseArgs } from "node:util"
import { type CliIo, failUsage } from "./cliCommand.js"

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

/**
 * The project a `--project DIR` flag names (default: the working directory), absolute.
 *
 * @throws CliError `AGH_CLI_USAGE` when it does not exist or is not a directory.
 */
export function projectDirFlag(flag: string | undefined, io: Pick<CliIo, "cwd">): string {
  const dir = resolve(io.cwd, flag ?? ".")
  let isDir = false
  try {
    isDir = statSync(dir).isDirectory()
  } catch {
    // Reported below.
  }
  if (!isDir) failUsage(`project directory ${dir} does not exist or is not a directory`)
  return dir
}
