import { DirectConnectError } from "../client/directConnectError.js"
import { type HostCapabilities, RemoteClient } from "../client/remoteClient.js"
import { resolveServerUrl } from "../client/serverUrl.js"
import { defaultTokenPath, readTokenFile } from "../client/tokenFile.js"
import { messageOf } from "../errors/messageOf.js"
import { inspectRepository, type RepositoryInfo } from "../teleport/inspectRepository.js"
import { CliError, type CliIo } from "./cliCommand.js"
import { runGitStep } from "./teleportCli.js"

/** One precondition of `agenthost remote` that does not hold, with what to do about it. */
export interface PreconditionFailure {
  readonly code: string
  readonly message: string
  readonly fix: string
}

/** Everything the checks learnt; `failures` empty means the teleport can go ahead. */
export interface PreconditionReport {
  readonly failures: ReadonlyArray<PreconditionFailure>
  readonly serverUrl?: string
  readonly tokenPath: string
  readonly authToken?: string
  readonly remote?: RemoteClient
  readonly capabilities?: HostCapabilities
  readonly repo?: RepositoryInfo
}

export interface PreconditionInput {
  readonly home: string
  readonly url?: string | undefined
  readonly tokenFile?: string | undefined
  /** The directory that should be (inside) the repository to teleport. */
  readonly cwd: string
  readonly io: Pick<CliIo, "env">
}

const codeOf = (error: unknown): string =>
  error instanceof DirectConnectError || error instanceof CliError ? error.code : "AGH_INTERNAL"
/**
 * Checks, all at once, what `agenthost remote` needs (docs/remote.md): the host answers (`GET /healthz`),
 * the token is accepted and the policy allows remote sessions with a free slot (`GET /host/capabilities`),
 * and the current directory is a git repository. Every failure is reported, not just the first, so a user
 * fixes them in one go.
 */
export async function checkRemotePreconditions(input: PreconditionInput): Promise<PreconditionReport> {
  const failures: PreconditionFailure[] = []
  const tokenPath = input.tokenFile ?? defaultTokenPath(input.home)
  let serverUrl: string | undefined
  try {
    serverUrl = resolveServerUrl(input.home, input.url)
  } catch (error) {
    failures.push({
      code: codeOf(error),
      message: messageOf(error),
      fix: "pass --url http://HOST:PORT with the address `agenthost serve` printed",
    })
  }
  let token: string | undefined
  try {
    token = readTokenFile(tokenPath)
  } catch (error) {
    failures.push({
      code: codeOf(error),
      message: messageOf(error),
      fix: "copy the host's <home>/token into that file (mode 0600), or pass --token-file",
    })
  }
  const remote = serverUrl === undefined ? undefined : new RemoteClient({ serverUrl, authToken: token ?? "" })
  const [health, capabilities, repo] = await Promise.allSettled([
    remote === undefined ? Promise.reject(new Error("no server URL")) : remote.health(),
    remote === undefined || token === undefined
      ? Promise.reject(new Error("no token"))
      : remote.capabilities(),
    runGitStep(inspectRepository(input.cwd), input.io),
  ])

  if (remote !== undefined && health.status === "rejected") {
    failures.push({
      code: codeOf(health.reason),
      message: `the host at ${remote.serverUrl} does not answer: ${messageOf(health.reason)}`,
      fix: "start it with `agenthost serve`, or pass --url with the address it printed",
    })
  }
  if (remote !== undefined && token !== undefined && capabilities.status === "rejected") {
    const error = capabilities.reason
    const unauthorized = error instanceof DirectConnectError && error.status === 401
    // Unreachable is already reported by the health check; saying it twice helps nobody.
    if (unauthorized) {
      failures.push({
        code: codeOf(error),
        message: `the host at ${remote.serverUrl} refused the token in ${tokenPath} (so its policy and capacity could not be checked)`,
        fix: "copy the host's <home>/token into that file, or pass --token-file with the right one",
      })
    } else if (!(error instanceof DirectConnectError && error.reason === "Unreachable")) {
      failures.push({
        code: codeOf(error),
        message: messageOf(error),
        fix: "the host may be older than this client (no GET /host/capabilities); upgrade it",
      })
    }
  }
  const caps = capabilities.status === "fulfilled" ? capabilities.value : undefined
  if (caps !== undefined && !caps.allowRemoteSessions) {
    failures.push({
      code: "AGH_POLICY_REMOTE_SESSIONS",
      message: `the host at ${remote?.serverUrl} does not allow remote sessions (config allow_remote_sessions is false)`,
      fix: 'set "allow_remote_sessions": true in the host\'s <home>/config.json and restart it',
    })
  }
  if (caps !== undefined && caps.liveSessions >= caps.maxSessions) {
    failures.push({
      code: "AGH_MAX_SESSIONS",
      message: `the host at ${remote?.serverUrl} already runs ${caps.liveSessions} of at most ${caps.maxSessions} sessions`,
      fix: "end one with `agenthost sessions kill ID`, or raise max_sessions in the host's config",
    })
  }
  if (repo.status === "rejected") {
    const code = codeOf(repo.reason)
    failures.push({
      code,
      message: messageOf(repo.reason),
      fix:
        code === "AGH_GIT_UNAVAILABLE"
          ? "install git 2.31 or later"
          : "run `agenthost remote` inside the git repository you want to teleport",
    })
  }
  return {
    failures,
    tokenPath,
    ...(token === undefined ? {} : { authToken: token }),
    ...(serverUrl === undefined ? {} : { serverUrl }),
    ...(remote === undefined ? {} : { remote }),
    ...(caps === undefined ? {} : { capabilities: caps }),
    ...(repo.status === "fulfilled" ? { repo: repo.value } : {}),
  }
}

/** The report as lines for stderr: each failure with its code, then what to do. */
export function renderPreconditionFailures(failures: ReadonlyArray<PreconditionFailure>): string {
  return failures.map((f) => `agenthost remote: ${f.code}: ${f.message}\n  fix: ${f.fix}\n`).join("")
}
