import { join } from "node:path"
import { RemoteClient } from "../client/remoteClient.js"
import { importSessionChanges } from "../teleport/pullBack.js"
import { checkSessionId } from "../teleport/workspace.js"
import { type CliCommand, CliError } from "./cliCommand.js"
import { CLIENT_FLAGS, resolveClientFlags, withClientErrorCodes } from "./clientFlags.js"
import { parseCommandArgs } from "./commandArgs.js"
import { runGitStep, transferWithProgress, withTempDir } from "./teleportCli.js"

const HELP = `Usage: agenthost pull ID [--force] [--url U] [--token-file F] [--home DIR]
       (also: agenthost remote pull ID ...)

Brings a session's changes back into the current git repository as the local branch agenthost/<ID>:
the session's commits plus, when its work tree had uncommitted work, one commit holding that work.
Your current branch, index, working tree and stash are never touched; look at the result with
\`git log agenthost/<ID>\` and merge or cherry-pick it when you like. Works while the session runs (a
snapshot of that moment) and after it ended.

Options:
  --force          replace an existing agenthost/<ID> branch (it must not be checked out)
  --url U          the host (default: host/port from <home>/config.json, else http://127.0.0.1:7420)
  --token-file F   file holding the host's token (default <home>/token)
  --home DIR       agenthost home (default $AGENTHOST_HOME or ~/.agenthost)
`

/** `agenthost pull ID` (SPEC §8): download `GET /sessions/:id/changes`, fetch it into `agenthost/<ID>`. */
export const pullCommand: CliCommand = {
  name: "pull",
  summary: "bring a session's changes back as the local branch agenthost/<ID>",
  help: HELP,
  run: async (args, io) => {
    const { values, positionals } = parseCommandArgs(args, { force: { type: "boolean" }, ...CLIENT_FLAGS })
    const [sessionId, ...extra] = positionals
    if (sessionId === undefined || sessionId === "") {
      throw new CliError("AGH_CLI_USAGE", "pull needs a session id: agenthost pull ID")
    }
    if (extra.length > 0)
      throw new CliError("AGH_CLI_USAGE", `unexpected argument ${JSON.stringify(extra[0])}`)
    // A malformed id can name no branch: say so before any network traffic.
    await runGitStep(checkSessionId(sessionId), io)
    return withClientErrorCodes(async () => {
      const target = resolveClientFlags(values, io)
      const remote = new RemoteClient({ serverUrl: target.serverUrl, authToken: target.authToken })
      return withTempDir("agh-pull-", async (dir) => {
        const file = join(dir, "changes.bundle")
        const downloaded = await transferWithProgress(
          io,
          "downloading changes",
          `writing ${file}`,
          (progress) => remote.downloadChanges(sessionId, file, progress),
        )
        const pulled = await runGitStep(
          importSessionChanges(io.cwd, file, sessionId, { force: values.force === true }),
          io,
        )
        const base = pulled.baseSha === null ? "an empty repository" : pulled.baseSha.slice(0, 12)
        const plural = pulled.commits === 1 ? "commit" : "commits"
        const extraNote = downloaded.uncommitted === true ? ", the last one holding its uncommitted work" : ""
        io.stdout.write(
          `branch ${pulled.branch} at ${pulled.sha}: ${pulled.commits} ${plural} on top of ${base}${extraNote}\n`,
        )
        io.stderr.write(
          `your current branch and working tree are unchanged; see it with: git log ${pulled.branch}\n`,
        )
        return 0
      })
    })
  },
}
