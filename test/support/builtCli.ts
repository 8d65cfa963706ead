import { execFile } from "node:child_process"
import { resolve } from "node:path"

/** The `agenthost` binary of this checkout. It runs dist/: `npm run build` comes first (npm test does). */
export const BIN = resolve(import.meta.dirname, "../../bin/agenthost.js")

/** How a run of the CLI exited and what it printed. */
export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the built CLI as a user would, in a child process; `env` is laid over this process's environment. */
export function runBuiltCli(
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: Readonly<Record<string, string>> } = {},
): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { ...(options.cwd === undefined ? {} : { cwd: options.cwd }), env: { ...process.env, ...options.env } },
      (err, stdout, stderr) =>
        done({ code: err === null ? 0 : typeof err.code === "number" ? err.code : -1, stdout, stderr }),
    )
  })
}
