import { existsSync, mkdirSync, realpathSync, statSync } from "node:fs"
import { createInterface } from "node:readline"
import { agentDefinitionFromConfig } from "../adapters/agentDefinition.js"
import { makeLiveAgentLauncher } from "../adapters/agentProcess.js"
import { liveClock } from "../adapters/clock.js"
import { liveIds } from "../adapters/ids.js"
import { openMachineRuntime } from "../effects/openMachineRuntime.js"
import type { PermissionAnswer, SeqMessage } from "../effects/sessionHandle.js"
import { startSessionRuntime } from "../effects/sessionRuntime.js"
import { fileEventLogLayer, logFilePath } from "../eventlog/fileEventLog.js"
import { defaultServerConfig, loadServerConfig } from "../server/config.js"
import { homeLayout } from "../server/home.js"
import { type CliCommand, CliError, type CliIo, resolveHome } from "./cliCommand.js"
import { parseCommandArgs } from "./commandArgs.js"
import { describeToolInput, isYes, renderMessage } from "./terminalUi.js"

const HELP = `Usage: agenthost exec [--agent NAME] [--cwd DIR] [--yes] [--json] [--home DIR] "<prompt>"

Runs one session locally, with no server, until the agent's first result (like \`claude -p\`).

  --agent NAME   agent from <home>/config.json (default: the config's default_agent, "builtin")
  --cwd DIR      working directory of the agent (default: the current directory)
  --yes          allow every permission request without asking
  --json         print the session's messages as NDJSON instead of text
  --home DIR     agenthost home (default $AGENTHOST_HOME or ~/.agenthost)

Permission requests are asked on the terminal; with no terminal and no --yes they are denied.
The session id and its event-log path are printed on stderr; replay it with \`agenthost replay <id>\`.
Exit status: 0 when the result is a success, 1 otherwise.`

/** How much of the agent's stderr is kept to explain a failure. */
const STDERR_TAIL_CHARS = 2_000

/** Asks a yes/no question on the terminal; resolves false on end of input. */
function askTerminal(io: CliIo, question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: false })
    let answered = false
    rl.question(question, (answer) => {
      answered = true
      rl.close()
      resolve(isYes(answer))
    })
    rl.on("close", () => {
      if (!answered) resolve(false)
    })
  })
}

export const execCommand: CliCommand = {
  name: "exec",
  summary: "run one session locally until its first result",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      home: { type: "string" },
      agent: { type: "string" },
      cwd: { type: "string" },
      yes: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    })
    if (positionals.length !== 1 || positionals[0] === "") {
      throw new CliError(
        "AGH_CLI_USAGE",
        'expected exactly one prompt argument, e.g. agenthost exec "$ echo hi"',
      )
    }
    const prompt = positionals[0] as string
    const home = resolveHome(values.home, io)
    const layout = homeLayout(home)
    const config = existsSync(layout.configPath)
      ? loadServerConfig(layout.configPath, home)
      : defaultServerConfig(home)
    const agentName = values.agent ?? config.default_agent
    const agentConfig = config.agents[agentName]
    if (agentConfig === undefined) {
      throw new CliError(
        "AGH_AGENT_UNKNOWN",
        `no agent named ${JSON.stringify(agentName)} (known: ${Object.keys(config.agents).join(", ")})`,
      )
    }
    const cwdArg = values.cwd ?? io.cwd
    let workDir: string
    try {
      workDir = realpathSync(cwdArg)
      if (!statSync(workDir).isDirectory()) throw new Error("not a directory")
    } catch {
      throw new CliError("AGH_CLI_BAD_CWD", `working directory ${JSON.stringify(cwdArg)} is not a directory`)
    }
    mkdirSync(layout.logsDir, { recursive: true, mode: 0o700 })

    const sessionId = liveIds.sessionId()
    const { runtime, close } = await openMachineRuntime({
      eventLog: fileEventLogLayer({ dir: layout.logsDir }),
      clock: liveClock,
      stream: sessionId,
      open: { meta: { kind: "session", command: "exec", agent: agentName } },
    })
    const logPath = logFilePath(layout.logsDir, sessionId)
    io.stderr.write(`session ${sessionId}\n`)
    let exitCode = 1
    let stderrTail = ""
    try {
      const session = await startSessionRuntime({
        runtime,
        input: {
          sessionId,
          agent: agentName,
          workDir,
          createdAt: liveClock.now(),
          title: prompt.slice(0, 80),
        },
        agentDefinition: agentDefinitionFromConfig(agentConfig),
        launcher: makeLiveAgentLauncher(),
        clock: liveClock,
        ids: liveIds,
        hostEnv: io.env,
        onStderr: (text) => {
          stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS)
        },
      })
      const interactive = io.stdin.isTTY === true
      let prompts = Promise.resolve()
      const firstResult = new Promise<SeqMessage | undefined>((resolve) => {
        session.subscribe(0, (message) => {
          if (values.json) io.stdout.write(`${JSON.stringify(message)}\n`)
          if (message.type === "control_request") {
            const requestId = String(message.request_id)
            const request = (message.request ?? {}) as { tool_name?: string; input?: Record<string, unknown> }
            const label = `${request.tool_name ?? "tool"}: ${describeToolInput(request.input ?? {})}`
            // Questions are asked one at a time, in the order the agent asked them.
            prompts = prompts.then(async () => {
              let answer: PermissionAnswer
              if (values.yes) answer = { behavior: "allow" }
              else if (!interactive) {
                io.stderr.write(`denied ${label} (no terminal to ask; pass --yes to allow)\n`)
                answer = { behavior: "deny", message: "denied: no terminal to ask and --yes not given" }
              } else {
                const allowed = await askTerminal(io, `Allow ${label}? [y/N] `)
                answer = allowed ? { behavior: "allow" } : { behavior: "deny", message: "denied by the user" }
              }
              await session.answerPermission(requestId, answer, "terminal")
            })
          } else if (!values.json) {
            io.stdout.write(renderMessage(message))
          }
          if (message.type === "result") resolve(message)
        })
        void session.whenDone().then(() => resolve(undefined))
      })
      await session.sendUserMessage({ type: "user", message: { role: "user", content: prompt } })
      const result = await firstResult
      await session.close()
      const info = await session.whenDone()
      if (result === undefined) {
        io.stderr.write(
          `agenthost exec: AGH_SESSION_ENDED: the session ended without a result (${info.end_reason ?? info.status})\n`,
        )
        if (stderrTail !== "") io.stderr.write(`agent stderr (last lines):\n${stderrTail}\n`)
      } else {
        exitCode = result.subtype === "success" && result.is_error !== true ? 0 : 1
      }
    } finally {
      await close()
      io.stderr.write(`log ${logPath}\n`)
    }
    return exitCode
  },
}
