import { parseArgs } from "node:util"
import { type ClockShape, liveClock } from "../adapters/clock.js"
import { type CliCommand, CliError } from "./cliCommand.js"
import { CONNECT_FLAGS, makeConnectCommand } from "./connectCommand.js"

const HELP = `Usage: agenthost attach ID [--url U] [--token-file F] [--home DIR] [--yes] ["<prompt>"]
       (also: agenthost remote attach ID ...)

Re-attaches to a session on a host — one started with \`agenthost remote\` or any other: its history
first, then live messages. Exactly \`agenthost connect --session ID\`: on a terminal you can type prompts,
answer permission requests, Ctrl-C interrupts and Ctrl-C twice detaches (the session goes on). Without a
terminal it waits for the running turn's result (permission requests are denied unless --yes).

Options:
  --url U          the host (default: host/port from <home>/config.json, else http://127.0.0.1:7420)
  --token-file F   file holding the host's token (default <home>/token)
  --yes, -y        allow every permission request without asking
  --home DIR       agenthost home (default $AGENTHOST_HOME or ~/.agenthost)
`

/** Builds `agenthost attach` around a clock (connect's Ctrl-C window and reconnect backoff use it). */
export function makeAttachCommand(clock: ClockShape = liveClock): CliCommand {
  const connect = makeConnectCommand(clock)
  return {
    name: "attach",
    summary: "re-attach to a session on a host (history first, then live)",
    help: HELP,
    run: (args, io) => {
      // The id is the first argument that is not a flag or a flag's value, wherever it stands; connect
      // checks the rest (unknown flags included) as its own.
      const { tokens } = parseArgs({
        args: [...args],
        options: CONNECT_FLAGS,
        allowPositionals: true,
        strict: false,
        tokens: true,
      })
      const first = tokens.find((t) => t.kind === "positional")
      if (first === undefined || first.value === "") {
        return Promise.reject(new CliError("AGH_CLI_USAGE", "attach needs a session id: agenthost attach ID"))
      }
      const rest = args.filter((_, i) => i !== first.index)
      return connect.run(["--session", first.value, ...rest], io)
    },
  }
}

/** `agenthost attach ID` (SPEC §8). */
export const attachCommand: CliCommand = makeAttachCommand()
