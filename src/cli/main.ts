import { type CliCommand, CliError, type CliIo, processIo } from "./cliCommand.js"
import { commands } from "./commands.js"

const VERSION = "0.1.0"

async function usage(): Promise<string> {
  const loaded = await Promise.all(commands.map((c) => c.load()))
  const width = Math.max(...loaded.map((c) => c.name.length))
  const lines = loaded.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)
  return [
    "agenthost — a host for headless coding agents",
    "",
    "Usage: agenthost <command> [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Every command takes --home DIR (default $AGENTHOST_HOME or ~/.agenthost) and --help.",
    "",
  ].join("\n")
}

/** Entry point of the `agenthost` binary. Resolves to the process exit code. */
export async function main(argv: ReadonlyArray<string>, io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout.write(await usage())
    return name === undefined ? 2 : 0
  }
  if (name === "--version" || name === "-v") {
    io.stdout.write(`${VERSION}\n`)
    return 0
  }
  const entry = commands.find((c) => c.name === name)
  if (!entry) {
    io.stderr.write(
      `agenthost: AGH_CLI_UNKNOWN_COMMAND: unknown command ${JSON.stringify(name)}\n\n${await usage()}`,
    )
    return 2
  }
  const command: CliCommand = await entry.load()
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(command.help.endsWith("\n") ? command.help : `${command.help}\n`)
    return 0
  }
  try {
    return await command.run(rest, io)
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr.write(`agenthost ${command.name}: ${err.code}: ${err.message}\n`)
      return err.exitCode
    }
    // parseArgs reports bad flags with ERR_PARSE_ARGS_* codes; they are usage errors, not crashes.
    const code = (err as { code?: unknown }).code
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      io.stderr.write(`agenthost ${command.name}: AGH_CLI_USAGE: ${(err as Error).message}\n`)
      return 2
    }
    throw err
  }
}
