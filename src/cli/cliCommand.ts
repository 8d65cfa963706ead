import { homedir } from "node:os"
import { resolve } from "node:path"

/** What a command can touch of the outside world. Tests hand in their own. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
}

export interface CliCommand {
  readonly name: string
  /** One line for `agenthost --help`. */
  readonly summary: string
  /** Full text for `agenthost <name> --help`. */
  readonly help: string
  /** Runs with the arguments after the command name; resolves to the exit code. */
  readonly run: (args: ReadonlyArray<string>, io: CliIo) => Promise<number>
}

/** A user-facing failure with a stable code (docs/errors.md). `main` prints it and exits non-zero. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 2,
  ) {
    super(message)
    this.name = "CliError"
  }
}

/** Throws the usage error (`AGH_CLI_USAGE`, exit 2) for bad arguments; `message` names the argument at fault. */
export function failUsage(message: string): never {
  throw new CliError("AGH_CLI_USAGE", message)
}

/** `<home>`: `--home DIR`, else `$AGENTHOST_HOME`, else `~/.agenthost` (SPEC §8). */
export function resolveHome(flag: string | undefined, io: Pick<CliIo, "env" | "cwd">): string {
  if (flag !== undefined && flag !== "") return resolve(io.cwd, flag)
  const env = io.env.AGENTHOST_HOME
  if (env !== undefined && env !== "") return resolve(io.cwd, env)
  return resolve(homedir(), ".agenthost")
}

export const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
})
