import { join } from "node:path"
import * as Effect from "effect/Effect"
import { type ClockShape, liveClock } from "../adapters/clock.js"
import { DirectConnectError } from "../client/directConnectError.js"
import { type CreatedSession, type CreateSessionBody, HostClient } from "../client/hostClient.js"
import type { HostCapabilities, RemoteClient } from "../client/remoteClient.js"
import { createSnapshotBundle } from "../teleport/bundle.js"
import { firstLine } from "../teleport/gitRunner.js"
import { type RepositoryInfo, userRunner } from "../teleport/inspectRepository.js"
import { makeAttachCommand } from "./attachCommand.js"
import { type CliCommand, CliError, type CliIo } from "./cliCommand.js"
import { CLIENT_FLAGS, type ClientFlagValues, clientFlagPaths, withClientErrorCodes } from "./clientFlags.js"
import { parseCommandArgs } from "./commandArgs.js"
import { formatBytes } from "./progressLine.js"
import { pullCommand } from "./pullCommand.js"
import { checkRemotePreconditions, renderPreconditionFailures } from "./remotePreconditions.js"
import { runGitStep, transferWithProgress, withTempDir } from "./teleportCli.js"

const HELP = `Usage: agenthost remote [--url U] [--token-file F] [--home DIR] [--agent NAME] [--title T]
                        [--attach | --detach] [--yes] [--bundle] "<prompt>"
       agenthost remote attach ID ...   (same as agenthost attach ID)
       agenthost remote pull ID ...     (same as agenthost pull ID)

Teleports the git repository of the current directory to a host and starts a background session there
with the prompt. The session runs on when this client leaves; re-attach with \`agenthost attach ID\`,
bring its changes back with \`agenthost pull ID\` (docs/remote.md).

First it checks, in parallel, that the host answers, accepts the token, allows remote sessions and has
a free slot, and that the current directory is a git repository; every failure is reported with what
to do (exit 2). Then the repository travels:
  - with a clean working tree whose HEAD is on a remote the host can reach itself (a path on its disk
    inside its work roots), the host clones it, at your HEAD commit;
  - otherwise as a git bundle of HEAD's history plus a snapshot of your working tree (staged, unstaged
    and untracked files; ignored files stay home), uploaded with a progress bar on a terminal.
Nothing in your repository is changed.

Prints the session id on stdout, unless it attaches: by default when stdin and stdout are terminals.

Options:
  --url U          the host (default: host/port from <home>/config.json, else http://127.0.0.1:7420)
  --token-file F   file holding the host's token (default <home>/token)
  --agent NAME     agent to run (host default: builtin)
  --title T        the session's title (default: the prompt's start)
  --attach         stream the session here after starting it (like agenthost attach ID)
  --detach         do not attach, even on a terminal
  --yes, -y        when attached: allow every permission request without asking
  --bundle         always send a bundle, even when the host could clone the repository
  --home DIR       agenthost home (default $AGENTHOST_HOME or ~/.agenthost)
`

interface RemoteFlags extends ClientFlagValues {
  readonly agent: string | undefined
  readonly title: string | undefined
  readonly attach: boolean | undefined
  readonly yes: boolean
  readonly bundle: boolean
  readonly prompt: string
}

function parseRemoteArgs(args: ReadonlyArray<string>): RemoteFlags {
  const { values, positionals } = parseCommandArgs(args, {
    ...CLIENT_FLAGS,
    agent: { type: "string" },
    title: { type: "string" },
    attach: { type: "boolean" },
    detach: { type: "boolean" },
    yes: { type: "boolean", short: "y" },
    bundle: { type: "boolean" },
  })
  if (values.attach === true && values.detach === true) {
    throw new CliError("AGH_CLI_USAGE", "--attach and --detach contradict each other")
  }
  return {
    url: values.url,
    "token-file": values["token-file"],
    home: values.home,
    agent: values.agent,
    title: values.title,
    attach: values.attach === true ? true : values.detach === true ? false : undefined,
    yes: values.yes === true,
    bundle: values.bundle === true,
    prompt: positionals.join(" ").trim(),
  }
}

/** Whether the user's HEAD is on one of `remote`'s remote-tracking branches, i.e. the remote has it. */
const headIsOnRemote = (root: string, head: string, remote: string) =>
  Effect.map(
    userRunner(root)([
      "for-each-ref",
      "--count=1",
      "--format=%(refname)",
      `--contains=${head}`,
      `refs/remotes/${remote}/`,
    ]),
    (result) => firstLine(result) !== "",
  )

function describeRepository(repo: RepositoryInfo): string {
  const at = repo.head === null ? "no commits yet" : `at ${repo.head.slice(0, 12)}`
  const where = repo.branch === null ? `detached HEAD ${at}` : `branch ${repo.branch} ${at}`
  const remotes =
    repo.remotes.length === 0 ? "no remotes" : repo.remotes.map((r) => `remote ${r.name} ${r.url}`).join(", ")
  const changes = repo.dirty || repo.hasUntracked ? "uncommitted changes" : "clean"
  return `repository ${repo.root} · ${where} · ${remotes} · ${changes}\n`
}

function describeHost(url: string, caps: HostCapabilities): string {
  return `host ${url} · remote sessions allowed · ${caps.liveSessions}/${caps.maxSessions} sessions live\n`
}

/** What a teleport needs once the preconditions hold. */
interface Teleport {
  readonly io: CliIo
  readonly flags: RemoteFlags
  readonly repo: RepositoryInfo
  readonly caps: HostCapabilities
  readonly remote: RemoteClient
  readonly host: HostClient
  readonly session: Omit<CreateSessionBody, "bundle_id" | "clone_url" | "clone_ref" | "cwd">
}

/**
 * The host clones a remote it can reach when that keeps nothing behind: a clean work tree whose HEAD the
 * remote has. Returns `undefined` to fall back to a bundle (saying why when it is not obvious).
 */
async function viaClone(t: Teleport): Promise<{ created: CreatedSession; how: string } | undefined> {
  const { repo, io } = t
  if (t.flags.bundle || repo.head === null || repo.remotes.length === 0) return undefined
  if (repo.dirty || repo.hasUntracked) {
    io.stderr.write("sending a bundle so that your uncommitted changes come along\n")
    return undefined
  }
  let reachable: Awaited<ReturnType<RemoteClient["reachableRemotes"]>>
  try {
    reachable = await t.remote.reachableRemotes(repo.remotes)
  } catch (error) {
    io.stderr.write(
      `cannot ask the host which remotes it reaches (${(error as Error).message}); sending a bundle\n`,
    )
    return undefined
  }
  for (const candidate of reachable) {
    if (!(await runGitStep(headIsOnRemote(repo.root, repo.head, candidate.name), io))) continue
    try {
      const created = await t.host.createSession({
        ...t.session,
        clone_url: candidate.cloneUrl,
        clone_ref: repo.head,
      })
      return { created, how: `cloned by the host from ${candidate.name} (${candidate.url})` }
    } catch (error) {
      // A refused request (policy, capacity) would be refused for a bundle too; a failed clone would not.
      if (!(error instanceof DirectConnectError) || (error.status ?? 0) < 500) throw error
      io.stderr.write(`the host could not clone ${candidate.url} (${error.code}); sending a bundle instead\n`)
    }
  }
  return undefined
}

/** Snapshot → upload (with progress) → session; the bundle is deleted again if the session is refused. */
function viaBundle(t: Teleport): Promise<{ created: CreatedSession; how: string }> {
  const { io, repo, caps, remote } = t
  return withTempDir("agh-remote-", async (dir) => {
    const bundle = await runGitStep(createSnapshotBundle(repo.root, join(dir, "seed.bundle")), io)
    if (bundle.bytes > caps.maxBundleBytes) {
      throw new CliError(
        "AGH_BUNDLE_TOO_LARGE",
        `the bundle of ${repo.root} is ${bundle.bytes} bytes (${formatBytes(bundle.bytes)}); the host at ${remote.serverUrl} accepts at most ${caps.maxBundleBytes} bytes`,
        1,
      )
    }
    const uploaded = await transferWithProgress(
      io,
      "uploading bundle",
      `reading ${bundle.bundlePath}`,
      (progress) => remote.uploadBundle(bundle.bundlePath, progress),
    )
    try {
      const created = await t.host.createSession({ ...t.session, bundle_id: uploaded.bundleId })
      return { created, how: `from a bundle of your working tree (${formatBytes(bundle.bytes)})` }
    } catch (error) {
      await remote.deleteBundle(uploaded.bundleId).catch(() => undefined)
      throw error
    }
  })
}

/** Builds `agenthost remote` around a clock (the attach path's Ctrl-C window and reconnects use it). */
export function makeRemoteCommand(clock: ClockShape = liveClock): CliCommand {
  const attach = makeAttachCommand(clock)
  return {
    name: "remote",
    summary: "teleport this git repository to a host and start a background session there",
    help: HELP,
    run: async (args, io) => {
      // Subcommands only in first position: a prompt is one quoted argument, never just "pull".
      if (args[0] === "attach") return attach.run(args.slice(1), io)
      if (args[0] === "pull") return pullCommand.run(args.slice(1), io)
      const flags = parseRemoteArgs(args)
      if (flags.prompt === "")
        throw new CliError("AGH_CLI_USAGE", 'a prompt is required: agenthost remote "<prompt>"')
      const { home, url, tokenFile } = clientFlagPaths(flags, io)
      const report = await checkRemotePreconditions({ home, url, tokenFile, cwd: io.cwd, io })
      const { repo, capabilities: caps, remote, serverUrl, authToken } = report
      if (
        report.failures.length > 0 ||
        repo === undefined ||
        caps === undefined ||
        remote === undefined ||
        serverUrl === undefined ||
        authToken === undefined
      ) {
        const n = report.failures.length
        io.stderr.write(renderPreconditionFailures(report.failures))
        throw new CliError(
          "AGH_REMOTE_PRECONDITIONS",
          `${n} precondition${n === 1 ? "" : "s"} failed (above); nothing was sent`,
        )
      }
      io.stderr.write(describeRepository(repo) + describeHost(serverUrl, caps))
      const teleport: Teleport = {
        io,
        flags,
        repo,
        caps,
        remote,
        host: new HostClient({ serverUrl, authToken }),
        session: {
          prompt: flags.prompt,
          ...(flags.title === undefined ? {} : { title: flags.title }),
          ...(flags.agent === undefined ? {} : { agent: flags.agent }),
        },
      }
      return withClientErrorCodes(async () => {
        const { created, how } = (await viaClone(teleport)) ?? (await viaBundle(teleport))
        const id = created.session_id
        io.stderr.write(
          `session ${id} started on ${serverUrl}, ${how}\n` +
            `  attach: agenthost attach ${id}\n` +
            `  pull:   agenthost pull ${id}\n`,
        )
        const interactive = io.stdin.isTTY === true && (io.stdout as { isTTY?: boolean }).isTTY === true
        if (flags.attach ?? interactive) {
          return attach.run(
            [
              id,
              "--url",
              serverUrl,
              "--token-file",
              report.tokenPath,
              "--home",
              home,
              ...(flags.yes ? ["--yes"] : []),
            ],
            io,
          )
        }
        io.stdout.write(`${id}\n`)
        return 0
      })
    },
  }
}

/** `agenthost remote` (SPEC §8), with `remote attach ID` and `remote pull ID` as aliases. */
export const remoteCommand: CliCommand = makeRemoteCommand()
