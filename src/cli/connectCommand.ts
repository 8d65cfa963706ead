import { createInterface, type Interface } from "node:readline"
import { type ClockShape, liveClock } from "../adapters/clock.js"
import type { PermissionRequest, SdkMessage } from "../client/clientMessages.js"
import type { ClientTarget } from "../client/clientTarget.js"
import type { DirectConnectError } from "../client/directConnectError.js"
import {
  createDirectConnectSession,
  type DirectConnectConfig,
  directConnectConfigFor,
} from "../client/directConnectSession.js"
import { DirectConnectSessionManager } from "../client/directConnectSessionManager.js"
import { type CliCommand, type CliIo, failUsage } from "./cliCommand.js"
import {
  CLIENT_FLAGS,
  type ClientFlagValues,
  resolveClientFlags,
  withClientErrorCodes,
} from "./clientFlags.js"
import { parseCommandArgs } from "./commandArgs.js"
import { isYes, permissionQuestion, renderMessage } from "./terminalUi.js"

const HELP = `Usage: agenthost connect [--url U] [--session ID] [--token-file F] [--home DIR] [--yes] ["<prompt>"]

Interactive client of a host started with \`agenthost serve\`. Without --session it creates a session whose
work directory is the current directory and sends the prompt; with --session it attaches to that session
(its history first, then live messages) and sends the prompt if one is given. The session id is printed so
you can re-attach later; the session keeps running on the host when the client goes away.

On a terminal: type further prompts line by line; permission requests are asked as
"Allow Bash: <command>? [y/N]"; Ctrl-C interrupts the running turn, a second Ctrl-C within 2 s (or
Ctrl-D) detaches. With stdin not a terminal: sends the prompt (from the arguments, else read from stdin),
denies permission requests unless --yes, and exits after the turn's result: 0 on success, 1 otherwise.

Options:
  --url U          the host (default: host/port from <home>/config.json, else http://127.0.0.1:7420)
  --session ID     attach to an existing session
  --token-file F   file holding the host's token (default <home>/token); never pass tokens as arguments
  --yes, -y        allow every permission request without asking
  --agent NAME     agent for a new session (host default: builtin)
  --title TEXT     title for a new session
  --home DIR       agenthost home (default $AGENTHOST_HOME or ~/.agenthost)
`

/** Ctrl-C twice within this window detaches instead of interrupting again. */
const DETACH_WINDOW_MS = 2_000

interface ConnectFlags extends ClientFlagValues {
  readonly session?: string | undefined
  readonly yes: boolean
  readonly agent?: string | undefined
  readonly title?: string | undefined
  readonly prompt: string
}

/** The flags of `agenthost connect` (and so of `attach`, which adds `--session`). */
export const CONNECT_FLAGS = {
  ...CLIENT_FLAGS,
  session: { type: "string" },
  yes: { type: "boolean", short: "y" },
  agent: { type: "string" },
  title: { type: "string" },
} as const

function parseConnectArgs(args: ReadonlyArray<string>): ConnectFlags {
  const { values, positionals } = parseCommandArgs(args, CONNECT_FLAGS)
  return { ...values, yes: values.yes === true, prompt: positionals.join(" ") }
}

/** Where a connect run starts: the session, how much of it is history, and how many results to wait for. */
interface Start {
  readonly config: DirectConnectConfig
  /** Last history seq at attach time (0 for a new session). */
  readonly historyEndSeq: number
  /** Prompt to send once connected (attach mode; a new session gets it in POST /sessions). */
  readonly promptToSend: string
  /** Non-interactive mode exits after this many results that are not history. */
  readonly resultsToWait: number
}

/** Builds the `connect` command around a clock (the Ctrl-C window and reconnect backoff use it). */
export function makeConnectCommand(clock: ClockShape = liveClock): CliCommand {
  return {
    name: "connect",
    summary: "talk to a session on a host: stream messages, answer permissions, Ctrl-C interrupts",
    help: HELP,
    run: async (args, io) => {
      const flags = parseConnectArgs(args)
      const interactive = io.stdin.isTTY === true
      return withClientErrorCodes(async () => {
        const target = resolveClientFlags(flags, io)
        let prompt = flags.prompt
        if (prompt === "" && !interactive && flags.session === undefined) {
          prompt = (await readAll(io.stdin)).trim()
          if (prompt === "") failUsage("a prompt is required when stdin is not a terminal")
        }
        const start = await startSession(target, flags, prompt, io)
        return runSession(start, { io, clock, interactive, yes: flags.yes })
      })
    },
  }
}

/** `agenthost connect`. */
export const connectCommand: CliCommand = makeConnectCommand()

async function startSession(
  target: ClientTarget,
  flags: ConnectFlags,
  prompt: string,
  io: CliIo,
): Promise<Start> {
  if (flags.session !== undefined) {
    const info = await target.host.getSession(flags.session)
    const historyEndSeq = typeof info.last_seq === "number" ? info.last_seq : 0
    const busy = info.status === "busy" || info.status === "awaiting_permission" || info.status === "starting"
    io.stderr.write(`attached to session ${info.id} (${info.status}) · work dir ${info.work_dir}\n`)
    return {
      config: directConnectConfigFor(target.serverUrl, info.id, target.authToken),
      historyEndSeq,
      promptToSend: prompt,
      resultsToWait: (busy ? 1 : 0) + (prompt === "" ? 0 : 1),
    }
  }
  const created = await createDirectConnectSession({
    serverUrl: target.serverUrl,
    authToken: target.authToken,
    cwd: io.cwd,
    ...(prompt === "" ? {} : { prompt }),
    ...(flags.agent === undefined ? {} : { agent: flags.agent }),
    ...(flags.title === undefined ? {} : { title: flags.title }),
  })
  io.stderr.write(
    `session ${created.config.sessionId} · work dir ${created.workDir}\n` +
      `re-attach with: agenthost connect --session ${created.config.sessionId}\n`,
  )
  return { config: created.config, historyEndSeq: 0, promptToSend: "", resultsToWait: prompt === "" ? 0 : 1 }
}

interface RunOptions {
  readonly io: CliIo
  readonly clock: ClockShape
  readonly interactive: boolean
  readonly yes: boolean
}

/** Streams the session until it ends, the client detaches, or (without a terminal) the awaited result came. */
function runSession(start: Start, options: RunOptions): Promise<number> {
  const { io, interactive } = options
  const sessionId = start.config.sessionId
  let finished = false
  let resultsSeen = 0
  let lastResultOk = true
  let rl: Interface | undefined
  let lastSigintAt = Number.NEGATIVE_INFINITY
  const permissionQueue: Array<{ readonly requestId: string; readonly request: PermissionRequest }> = []
  let resolveExit: (code: number) => void = () => {}
  const exited = new Promise<number>((r) => {
    resolveExit = r
  })

  /** Output that keeps the readline prompt (and what the user typed) below it. */
  const out = (text: string) => {
    if (text === "") return
    if (rl === undefined) {
      io.stdout.write(text)
      return
    }
    io.stdout.write(`\r\x1b[K${text}`)
    rl.prompt(true)
  }
  const note = (text: string) => (interactive ? out(text) : io.stderr.write(text))

  const finish = (code: number) => {
    if (finished) return
    finished = true
    manager.disconnect()
    const current = rl
    rl = undefined
    current?.close()
    resolveExit(code)
  }

  const askNext = () => {
    const next = permissionQueue[0]
    rl?.setPrompt(next === undefined ? "> " : permissionQuestion(next.request))
    rl?.prompt(true)
  }

  const checkHistoryOnlyDone = () => {
    if (!interactive && start.resultsToWait === 0 && manager.lastSeq() >= start.historyEndSeq) finish(0)
  }

  const manager = new DirectConnectSessionManager(
    start.config,
    {
      onMessage: (message: SdkMessage) => {
        out(renderMessage(message))
        const seq = typeof message.seq === "number" ? message.seq : Number.POSITIVE_INFINITY
        if (message.type === "result" && seq > start.historyEndSeq) {
          resultsSeen += 1
          lastResultOk = message.subtype === "success" && message.is_error !== true
          if (!interactive && resultsSeen >= start.resultsToWait) finish(lastResultOk ? 0 : 1)
        }
        checkHistoryOnlyDone()
      },
      onPermissionRequest: (request, requestId) => {
        if (options.yes) {
          out(`${permissionQuestion(request)}y (--yes)\n`)
          manager.respondToPermissionRequest(requestId, { behavior: "allow" })
        } else if (!interactive) {
          out(`${permissionQuestion(request)}n (stdin is not a terminal; pass --yes to allow)\n`)
          manager.respondToPermissionRequest(requestId, {
            behavior: "deny",
            message: "denied: the client has no terminal to ask (agenthost connect without --yes)",
          })
        } else {
          permissionQueue.push({ requestId, request })
          if (permissionQueue.length === 1) askNext()
        }
        checkHistoryOnlyDone()
      },
      onPermissionCancelled: (requestId) => {
        const index = permissionQueue.findIndex((p) => p.requestId === requestId)
        if (index < 0) return
        permissionQueue.splice(index, 1)
        out("(that permission request was settled elsewhere)\n")
        if (index === 0) askNext()
      },
      onConnected: (info) => {
        if (info.reconnect) note(`reconnected (resuming after seq ${info.afterSeq})\n`)
        else if (start.promptToSend !== "") manager.sendMessage(start.promptToSend)
        checkHistoryOnlyDone()
      },
      onDisconnected: (reason, info) => {
        if (finished) return
        if (info.willReconnect) {
          note(`connection lost (${reason}); reconnecting…\n`)
          return
        }
        if (manager.phase() === "failed") return finish(1)
        note(`session stream ended: ${reason}\n`)
        finish(interactive || resultsSeen >= start.resultsToWait ? (lastResultOk ? 0 : 1) : 1)
      },
      onError: (error: DirectConnectError) => {
        note(`agenthost connect: ${error.code}: ${error.message}\n`)
      },
    },
    { clock: options.clock, historyEndSeq: start.historyEndSeq },
  )

  if (interactive) {
    rl = createInterface({ input: io.stdin, output: io.stdout, terminal: true, prompt: "> " })
    rl.on("line", (line) => {
      const asking = permissionQueue.shift()
      if (asking !== undefined) {
        const allow = isYes(line)
        manager.respondToPermissionRequest(
          asking.requestId,
          allow ? { behavior: "allow" } : { behavior: "deny", message: "denied by the user" },
        )
        askNext()
        return
      }
      if (line.trim() !== "") manager.sendMessage(line)
      rl?.prompt()
    })
    rl.on("SIGINT", () => {
      const now = options.clock.now()
      if (now - lastSigintAt <= DETACH_WINDOW_MS) {
        io.stdout.write(
          `\ndetached; the session goes on. Re-attach with: agenthost connect --session ${sessionId}\n`,
        )
        finish(0)
        return
      }
      lastSigintAt = now
      manager.sendInterrupt()
      out("^C interrupting the turn (Ctrl-C again within 2 s to detach)\n")
    })
    rl.on("close", () => {
      if (finished) return
      io.stdout.write(`\ndetached; re-attach with: agenthost connect --session ${sessionId}\n`)
      finish(0)
    })
    rl.prompt()
  }
  manager.connect()
  return exited
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolveText, reject) => {
    const chunks: Buffer[] = []
    stream.on("data", (chunk: Buffer | string) =>
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk),
    )
    stream.on("end", () => resolveText(Buffer.concat(chunks).toString("utf8")))
    stream.on("error", reject)
  })
}
