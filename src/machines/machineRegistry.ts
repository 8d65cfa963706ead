import { parseConnectionEvent, parseConnectionInput } from "./connectionEventSchema.js"
import { connectionMachine } from "./connectionMachine.js"
import {
  CONNECTION_MACHINE_NAME,
  CONNECTION_MACHINE_VERSION,
  type ConnectionEffects,
  type ConnectionEvent,
  type ConnectionInput,
} from "./connectionTypes.js"
import { parseCronTaskEvent, parseCronTaskInput } from "./cronTaskEventSchema.js"
import { cronTaskMachine } from "./cronTaskMachine.js"
import {
  CRON_TASK_MACHINE_NAME,
  CRON_TASK_MACHINE_VERSION,
  type CronTaskEffects,
  type CronTaskEvent,
  type CronTaskInput,
} from "./cronTaskTypes.js"
import type { AnyMachineDefinition, MachineDefinition } from "./machineDefinition.js"
import { parseSessionEvent, parseSessionInput } from "./sessionEventSchema.js"
import { sessionMachine } from "./sessionMachine.js"
import {
  SESSION_MACHINE_NAME,
  SESSION_MACHINE_VERSION,
  type SessionEffects,
  type SessionEvent,
  type SessionInput,
} from "./sessionTypes.js"

/** The session machine with its name, version and boundary validators: what the runtime and replay take. */
export const sessionMachineDefinition: MachineDefinition<
  typeof sessionMachine,
  SessionInput,
  SessionEvent,
  SessionEffects
> = {
  name: SESSION_MACHINE_NAME,
  version: SESSION_MACHINE_VERSION,
  machine: sessionMachine,
  parseInput: parseSessionInput,
  parseEvent: parseSessionEvent,
  effectNames: [
    "spawnAgent",
    "sendToAgent",
    "answerPermission",
    "withdrawPermissionPrompt",
    "interruptAgent",
    "rejectUserMessage",
    "closeAgentInput",
    "killAgent",
  ],
}

/** The connection machine with its name, version and boundary validators. */
export const connectionMachineDefinition: MachineDefinition<
  typeof connectionMachine,
  ConnectionInput,
  ConnectionEvent,
  ConnectionEffects
> = {
  name: CONNECTION_MACHINE_NAME,
  version: CONNECTION_MACHINE_VERSION,
  machine: connectionMachine,
  parseInput: parseConnectionInput,
  parseEvent: parseConnectionEvent,
  effectNames: ["openSocket", "closeSocket"],
}

/** The cron task machine with its name, version and boundary validators. */
export const cronTaskMachineDefinition: MachineDefinition<
  typeof cronTaskMachine,
  CronTaskInput,
  CronTaskEvent,
  CronTaskEffects
> = {
  name: CRON_TASK_MACHINE_NAME,
  version: CRON_TASK_MACHINE_VERSION,
  machine: cronTaskMachine,
  parseInput: parseCronTaskInput,
  parseEvent: parseCronTaskEvent,
  effectNames: ["computeNextFire", "firePrompt", "saveLastFiredAt", "removeTask"],
}

/** The machines agenthost logs; what `agenthost replay` knows by default. */
export const defaultMachines: ReadonlyArray<AnyMachineDefinition> = [
  sessionMachineDefinition,
  connectionMachineDefinition,
  cronTaskMachineDefinition,
]
