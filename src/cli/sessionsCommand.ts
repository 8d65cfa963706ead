import { type CliCommand, CliError } from "./cliCommand.js"
import { CLIENT_FLAGS, resolveClientFlags, withClientErrorCodes } from "./clientFlags.js"
import { parseCommandArgs } from "./commandArgs.js"
import { renderSessionDetails, renderSessionTable } from "./terminalUi.js"

const HELP = `Usage: agenthost sessions ls [--json]
       agenthost sessions show ID [--json]
       agenthost sessions kill ID [--json]
       (each also takes [--url U] [--token-file F] [--home DIR])

Sessions on a host, over its REST API: list them, show one (status, agent, work dir, todo list, ...), or
kill one (its agent process ends and the session becomes "killed").

Options:
  --json           print the host's JSON instead of a table
  --url U          the host (default: host/port from <home>/config.json, else http://127.0.0.1:7420)
  --token-file F   file holding the host's token (default <home>/token)
  --home DIR       agenthost home (default $AGENTHOST_HOME or ~/.agenthost)
`

/** `agenthost sessions ls|show ID|kill ID`. */
export const sessionsCommand: CliCommand = {
  name: "sessions",
  summary: "list, show or kill the sessions on a host",
  help: HELP,
  run: async (args, io) => {
    const { values, positionals } = parseCommandArgs(args, { json: { type: "boolean" }, ...CLIENT_FLAGS })
    const [action, id, ...extra] = positionals
    const needsId = action === "show" || action === "kill"
    if (action !== "ls" && !needsId) {
      throw new CliError(
        "AGH_CLI_USAGE",
        action === undefined
          ? "expected ls, show ID or kill ID"
          : `unknown action ${JSON.stringify(action)}; expected ls, show ID or kill ID`,
      )
    }
    if (needsId && (id === undefined || id === ""))
      throw new CliError("AGH_CLI_USAGE", `${action} needs a session id`)
    const surplus = needsId ? extra : [id, ...extra].filter((x) => x !== undefined)
    if (surplus.length > 0)
      throw new CliError("AGH_CLI_USAGE", `unexpected argument ${JSON.stringify(surplus[0])}`)
    const json = values.json === true
    return withClientErrorCodes(async () => {
      const { host } = resolveClientFlags(values, io)
      if (action === "ls") {
        const sessions = await host.listSessions()
        io.stdout.write(json ? `${JSON.stringify(sessions, null, 2)}\n` : renderSessionTable(sessions))
        return 0
      }
      const sessionId = id as string
      if (action === "show") {
        const info = await host.getSession(sessionId)
        io.stdout.write(json ? `${JSON.stringify(info, null, 2)}\n` : renderSessionDetails(info))
        return 0
      }
      const info = await host.killSession(sessionId)
      if (json) io.stdout.write(`${JSON.stringify(info ?? { id: sessionId, status: "killed" }, null, 2)}\n`)
      else io.stdout.write(`killed ${sessionId} (status ${info?.status ?? "killed"})\n`)
      return 0
    })
  },
}
