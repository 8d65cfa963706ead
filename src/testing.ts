/**
 * `agenthost/testing`: what tests of agenthost — and of programs embedding it — need: the in-memory
 * layers, the manual clock, deterministic ids and fast-check arbitraries.
 */
export { Clock, ManualClock } from "./adapters/clock.js"
export { Ids, sequentialIds } from "./adapters/ids.js"
export { makeMemoryEventLog, memoryEventLogLayer } from "./eventlog/memoryEventLog.js"
