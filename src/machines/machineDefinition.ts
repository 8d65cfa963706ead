import type { AnyStateMachine } from "xstate"
import type { BoundaryParser, MachineEvent } from "./eventParser.js"

/**
 * Everything the runtime and replay need to know about one machine: its logged name and version, the pure
 * definition, and the boundary validators. `F` (the effects interface) is carried as a type only, so the
 * runtime can type the effect implementations a caller hands in.
 */
export interface MachineDefinition<
  M extends AnyStateMachine = AnyStateMachine,
  I = unknown,
  E extends MachineEvent = MachineEvent,
  F extends object = object,
> {
  /** Name in `actor.started` records (`session`, `connection`, `cronTask`). */
  readonly name: string
  /** Logged with every start; replay refuses to compare states across versions. */
  readonly version: number
  readonly machine: M
  readonly parseInput: BoundaryParser<I>
  readonly parseEvent: BoundaryParser<E>
  /** Names of the named actions the runtime may replace (the effects). */
  readonly effectNames: ReadonlyArray<string>
  /** Type carrier only; never set. */
  readonly effectsType?: F
}

/** Any machine definition, for registries such as replay's. */
export type AnyMachineDefinition = MachineDefinition<AnyStateMachine, unknown, MachineEvent, object>

/** The effects interface of a definition. */
export type EffectsOf<D> =
  D extends MachineDefinition<AnyStateMachine, unknown, MachineEvent, infer F> ? F : never

/** The validated event type of a definition. */
export type EventOf<D> = D extends MachineDefinition<AnyStateMachine, unknown, infer E, object> ? E : never

/** The input type of a definition. */
export type InputOf<D> =
  D extends MachineDefinition<AnyStateMachine, infer I, MachineEvent, object> ? I : never
