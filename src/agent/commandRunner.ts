/**
 * The port between the built-in agent's turn logic and the shell. The live implementation is
 * {@link makeShellRunner} (bashTool.ts); tests hand in a fake that finishes commands when told to.
 */

/** How a command ended. */
export interface CommandOutcome {
  /** Captured stdout, cut at the output cap (see `truncated`). */
  readonly stdout: string
  readonly stderr: string
  /** `null` when the shell did not exit normally (killed by a signal, or never started). */
  readonly exitCode: number | null
  readonly signal: string | null
  /** Stopped by {@link RunningCommand.interrupt}. */
  readonly interrupted: boolean
  /** Stopped because it ran past its timeout. */
  readonly timedOut: boolean
  /** Some output was dropped at the cap; a note is appended to the stream that overflowed. */
  readonly truncated: boolean
  /** Set when the shell could not be started at all (missing cwd, say). */
  readonly spawnError?: string
}

/** A command in flight. */
export interface RunningCommand {
  /** Pid of the shell, which leads its own process group; `undefined` if it failed to start. */
  readonly pid: number | undefined
  /** Settles once the command is over and its output is collected. Never rejects. */
  readonly outcome: Promise<CommandOutcome>
  /** Stops the command's whole process group (SIGTERM, then SIGKILL after a grace period). Idempotent. */
  readonly interrupt: () => void
}

/** What a run needs to know. */
export interface RunOptions {
  readonly cwd: string
  readonly timeoutMs: number
}

/** Starts shell commands. */
export interface CommandRunner {
  readonly run: (command: string, options: RunOptions) => RunningCommand
}
