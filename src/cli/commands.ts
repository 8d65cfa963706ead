import type { CliCommand } from "./cliCommand.js"

/** Every `agenthost` command, in the order `--help` lists them. */
export const commands: ReadonlyArray<CliCommand> = []
