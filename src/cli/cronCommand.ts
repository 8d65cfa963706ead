import { type CliCommand, CliError, type CliIo } from "./cliCommand.js"
import { cronHistorySubcommand } from "./cronHistoryCommand.js"
import { cronNextSubcommand } from "./cronNextCommand.js"
import { cronAddSubcommand, cronLsSubcommand, cronRmSubcommand } from "./cronTasksCommands.js"

/** One `agenthost cron <name>` subcommand. */
export interface CronSubcommand {
  readonly name: string
  /** One line for the subcommand list. */
  readonly summary: string
  /** Usage line and option descriptions, shown by `agenthost cron --help`. */
  readonly help: string
  /** Runs with the arguments after the subcommand name; resolves to the exit code. */
  readonly run: (args: ReadonlyArray<string>, io: CliIo) => Promise<number>
}

/** Every `agenthost cron` subcommand, in the order `--help` lists them. New subcommands are added here. */
export const cronSubcommands: ReadonlyArray<CronSubcommand> = [
  cronNextSubcommand,
  cronAddSubcommand,
  cronLsSubcommand,
  cronRmSubcommand,
  cronHistorySubcommand,
]

const names = () => cronSubcommands.map((s) => s.name).join(", ")

function help(): string {
  const width = Math.max(...cronSubcommands.map((s) => s.name.length))
  return [
    "Usage: agenthost cron <subcommand> [options]",
    "",
    "Subcommands:",
    ...cronSubcommands.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`),
    "",
    ...cronSubcommands.map((s) => s.help.trimEnd()),
    "",
  ].join("\n")
}

/** `agenthost cron`: scheduled tasks. Dispatches to {@link cronSubcommands}. */
export const cronCommand: CliCommand = {
  name: "cron",
  summary: "scheduled tasks: add, list and remove a project's tasks; next fire times of a cron expression",
  get help() {
    return help()
  },
  run: async (args, io) => {
    const [name, ...rest] = args
    const subcommand = cronSubcommands.find((s) => s.name === name)
    if (subcommand === undefined) {
      throw new CliError(
        "AGH_CLI_USAGE",
        name === undefined
          ? `missing subcommand (one of: ${names()})`
          : `unknown subcommand ${JSON.stringify(name)} (one of: ${names()})`,
      )
    }
    return subcommand.run(rest, io)
  },
}
