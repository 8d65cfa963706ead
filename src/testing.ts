/**
 * `agenthost/testing`: what tests of agenthost — and of programs embedding it — need: the in-memory
 * layers, the manual clock, deterministic ids and fast-check arbitraries.
 */
export { Clock, ManualClock } from "./adapters/clock.js"
export { Ids, sequentialIds } from "./adapters/ids.js"
export { MemoryLockWorld } from "./adapters/memoryLockWorld.js"
export { SchedulerLock } from "./adapters/schedulerLock.js"
export { cronExpressionArb, dstCronExpressionArb } from "./cron/cronArbitraries.js"
export {
  actorStartedBodyArb,
  eventBodyArb,
  eventTypeArb,
  loggedEventArb,
  logRecordArb,
  msgpackValueArb,
  noteBodyArb,
  recordBodyArb,
  stateValueArb,
} from "./eventlog/arbitraries.js"
export { makeMemoryEventLog, memoryEventLogLayer } from "./eventlog/memoryEventLog.js"
export { assertLogReplays, verifyEventLogStream, verifyLog } from "./eventlog/replay.js"
export {
  connectionEventArb,
  connectionInputArb,
  connectionOpenedArb,
  cronTaskEventArb,
  cronTaskInputArb,
  cronTaskScheduledArb,
  type MachineStep,
  machineStepsArb,
  sessionEventArb,
  sessionInputArb,
  sessionReadyArb,
  startedStepsArb,
} from "./machines/arbitraries.js"
