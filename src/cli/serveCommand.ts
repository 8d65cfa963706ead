import { parseArgs } from "node:util"
import { liveClock } from "../adapters/clock.js"
import { prepareHome } from "../server/home.js"
import { type Host, startHost } from "../server/host.js"
import { HostSetupError } from "../server/hostSetupError.js"
import { type CliCommand, CliError, type CliIo, resolveHome } from "./cliCommand.js"

const HELP = `Usage: agenthost serve [--host H] [--port P] [--home DIR]

Runs the host: the HTTP API and WebSocket direct connect (docs/server.md).
On a fresh machine it creates <home> (0700), a random token in <home>/token (0600) and
<home>/config.json with the defaults (docs/config.md). Clients read the token from that file;
it is never printed.

Options:
  --host H      address to bind (default: config host, 127.0.0.1)
  --port P      port to bind, 0 for any free port (default: config port, 7420)
  --home DIR    host state directory (default $AGENTHOST_HOME or ~/.agenthost)

Stops on SIGTERM or SIGINT: closes client connections (1001), ends the sessions, flushes logs.
SIGHUP re-reads <home>/cron.json (jitter settings, scheduled projects) at once; the host also polls it.
`

function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new CliError("AGH_CLI_USAGE", `--port: expected 0..65535, got ${JSON.stringify(value)}`)
  }
  return Number(value)
}

const isLoopback = (host: string) => host === "localhost" || host === "::1" || host.startsWith("127.")

/** Resolves when the process gets SIGTERM or SIGINT. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", on)
      process.off("SIGINT", on)
      resolve(signal)
    }
    process.on("SIGTERM", on)
    process.on("SIGINT", on)
  })
}

async function run(args: ReadonlyArray<string>, io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { host: { type: "string" }, port: { type: "string" }, home: { type: "string" } },
    strict: true,
    allowPositionals: false,
  })
  const homeDir = resolveHome(values.home, io)
  let host: Host
  let url: string
  let tokenPath: string
  try {
    const home = prepareHome(homeDir)
    const config = {
      ...home.config,
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(values.port === undefined ? {} : { port: parsePort(values.port) }),
    }
    tokenPath = home.tokenPath
    host = await startHost({
      home,
      config,
      clock: liveClock,
      hostEnv: io.env,
      log: (line) => io.stderr.write(`agenthost serve: ${line}\n`),
    })
    if (host.recoveredSessions > 0) {
      io.stderr.write(
        `agenthost serve: found ${host.recoveredSessions} session(s) of an earlier run in the logs\n`,
      )
    }
    for (const path of home.created) io.stderr.write(`agenthost serve: created ${path}\n`)
    if (!isLoopback(config.host)) {
      io.stderr.write(
        `agenthost serve: warning: binding ${config.host} exposes the API beyond this machine; the token is its only guard and there is no TLS\n`,
      )
    }
    url = (await host.server.listen()).url
  } catch (error) {
    if (error instanceof HostSetupError) throw new CliError(error.code, error.message)
    throw error
  }
  const stopped = untilSignal()
  // A daemon's reload signal: cron.json now, rather than at the next poll. An invalid file is refused and
  // the settings in force stay (the scheduler says why on stderr).
  const reload = () => {
    void host.scheduler.reloadConfig().then((result) => {
      io.stderr.write(
        result._tag === "Success"
          ? `agenthost serve: SIGHUP: reloaded ${host.scheduler.configPath}\n`
          : `agenthost serve: SIGHUP: kept the settings in force: ${result.failure.message}\n`,
      )
    })
  }
  process.on("SIGHUP", reload)
  io.stdout.write(
    `agenthost serve: listening on ${url}\n` +
      `  token file: ${tokenPath} (clients send it as "Authorization: Bearer <token>")\n` +
      `  home: ${homeDir}\n`,
  )
  const signal = await stopped
  process.off("SIGHUP", reload)
  io.stderr.write(`agenthost serve: ${signal}: shutting down\n`)
  await host.close()
  io.stderr.write("agenthost serve: stopped\n")
  return 0
}

/** `agenthost serve` (SPEC §8). */
export const serveCommand: CliCommand = {
  name: "serve",
  summary: "run the host: HTTP API + WebSocket direct connect",
  help: HELP,
  run,
}
