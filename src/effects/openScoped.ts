import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"

/** A scoped resource opened from plain async code, and the way to close its scope. */
export interface OpenedScoped<A> {
  readonly value: A
  /** Closes the scope: runs the resource's finalizers. */
  readonly close: () => Promise<void>
}

/**
 * Runs `effect` in a scope of its own that outlives the call, for the Promise front doors of scoped
 * services (`openMachineRuntime`, `openTriggerStore`). When `effect` fails, the scope is closed at once and
 * the error is thrown, so a half-opened resource never leaks.
 */
export async function openScoped<A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<OpenedScoped<A>> {
  const scope = await Effect.runPromise(Scope.make())
  const exit = await Effect.runPromiseExit(effect.pipe(Scope.provide(scope)))
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, exit))
    throw Cause.squash(exit.cause)
  }
  return { value: exit.value, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
