import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import type { Git, GitError } from "../../adapters/git.js"
import type { TeleportError } from "../../teleport/teleportError.js"

/** A teleport or git failure as the router renders it: the library's own code, an HTTP status. */
export class TeleportHttpError extends Data.TaggedError("TeleportHttpError")<{
  readonly code: string
  readonly status: number
  readonly message: string
  readonly headers?: Readonly<Record<string, string>>
  readonly cause?: unknown
}> {}

/**
 * Runs a teleport effect with real git and turns its typed failure into a {@link TeleportHttpError}.
 * `closeOn` lists codes after which the connection is closed instead of drained (an upload refused
 * half-way: reading the rest of it would cost the host as much as accepting it).
 */
export async function runTeleport<A>(
  effect: Effect.Effect<A, TeleportError | GitError, Git>,
  git: Layer.Layer<Git>,
  closeOn: ReadonlyArray<string> = [],
): Promise<A> {
  const exit = await Effect.runPromiseExit(effect.pipe(Effect.provide(git)))
  if (Exit.isSuccess(exit)) return exit.value
  const failure = exit.cause.reasons.find(Cause.isFailReason)
  if (failure === undefined) throw Cause.squash(exit.cause)
  const error = failure.error
  throw new TeleportHttpError({
    code: error.code,
    status: error.status,
    message: error.message,
    ...(closeOn.includes(error.code) ? { headers: { connection: "close" } } : {}),
    cause: error,
  })
}
