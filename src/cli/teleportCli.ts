import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { Git, type GitError } from "../adapters/git.js"
import type { TransferProgress } from "../client/bundleTransfer.js"
import { DirectConnectError } from "../client/directConnectError.js"
import { messageOf } from "../errors/messageOf.js"
import type { TeleportError } from "../teleport/teleportError.js"
import { CliError, type CliIo } from "./cliCommand.js"
import { progressLine } from "./progressLine.js"

/** Codes that mean the command was asked for something impossible rather than that something broke. */
const USAGE_LIKE = new Set(["AGH_TELEPORT_BAD_SESSION_ID"])

/**
 * Runs a teleport step with the user's own git (their environment: `io.env`) and turns its typed failure
 * into a coded {@link CliError} (exit 1, or 2 for a malformed session id).
 */
export async function runGitStep<A>(
  effect: Effect.Effect<A, TeleportError | GitError, Git>,
  io: Pick<CliIo, "env">,
): Promise<A> {
  const exit = await Effect.runPromiseExit(effect.pipe(Effect.provide(Git.layerWith({ env: io.env }))))
  if (Exit.isSuccess(exit)) return exit.value
  const failure = exit.cause.reasons.find(Cause.isFailReason)
  if (failure === undefined) throw Cause.squash(exit.cause)
  const error = failure.error
  throw new CliError(error.code, error.message, USAGE_LIKE.has(error.code) ? 2 : 1)
}

/** Runs `use` with a private temp directory (bundles in transit), removed afterwards whatever happened. */
export async function withTempDir<A>(prefix: string, use: (dir: string) => Promise<A>): Promise<A> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  try {
    return await use(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** A local file failure (the bundle in transit) as a coded error naming the path. */
export function localIoError(what: string, error: unknown): CliError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const detail = messageOf(error)
  return new CliError(
    code === "ENOSPC" || code === "EDQUOT" ? "AGH_DISK_FULL" : "AGH_TELEPORT_IO",
    `${what}: ${detail}`,
    1,
  )
}

/**
 * Moves a bundle between this machine and the host with a progress line on stderr. A failure that is not the
 * host's or the network's (a {@link DirectConnectError}) is the local file's, reported as {@link localIoError}
 * of `what` (e.g. `writing <file>`).
 */
export function transferWithProgress<A>(
  io: Pick<CliIo, "stderr">,
  label: string,
  what: string,
  transfer: (onProgress: TransferProgress) => Promise<A>,
): Promise<A> {
  const bar = progressLine(io.stderr, label)
  return transfer(bar.update)
    .catch((error: unknown) => {
      throw error instanceof DirectConnectError ? error : localIoError(what, error)
    })
    .finally(bar.done)
}
