import { type AnyMachineSnapshot, type AnyStateMachine, createActor, type EventObject } from "xstate"
import { ManualClock } from "../../src/adapters/clock.js"
import type { AnyMachineDefinition, EventOf, InputOf } from "../../src/machines/machineDefinition.js"

export interface EffectCall {
  readonly name: string
  readonly params: unknown
}

/** A machine run as a plain xstate actor on a ManualClock, recording every effect it asks for. */
export interface MachineHarness<E> {
  readonly clock: ManualClock
  readonly calls: EffectCall[]
  readonly send: (event: E) => void
  readonly snapshot: () => AnyMachineSnapshot
  readonly state: () => unknown
  /** The params of every call of one effect, in order. */
  readonly callsOf: (name: string) => unknown[]
}

export function runMachine<D extends AnyMachineDefinition>(
  definition: D,
  input: InputOf<D>,
  clock = new ManualClock(0),
): MachineHarness<EventOf<D>> {
  const calls: EffectCall[] = []
  const actions = Object.fromEntries(
    definition.effectNames.map((name) => [
      name,
      (_args: unknown, params: unknown) => calls.push({ name, params }),
    ]),
  )
  const machine = (definition.machine as AnyStateMachine).provide({ actions })
  const actor = createActor(machine, { input, clock }).start()
  return {
    clock,
    calls,
    send: (event) => actor.send(event as EventObject),
    snapshot: () => actor.getSnapshot() as AnyMachineSnapshot,
    state: () => (actor.getSnapshot() as AnyMachineSnapshot).value,
    callsOf: (name) => calls.filter((c) => c.name === name).map((c) => c.params),
  }
}
