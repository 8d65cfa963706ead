/**
 * agenthost's embeddable surface (SPEC §10). Re-exports by name; never pulls in the server or the CLI.
 */
export { Clock, type ClockShape, liveClock, ManualClock, type TimerHandle } from "./adapters/clock.js"
export { Ids, type IdsShape, liveIds, sequentialIds } from "./adapters/ids.js"
export {
  DEFAULT_DURABILITY,
  type Durability,
  EventLog,
  type EventLogShape,
  isValidStreamName,
  type LogWriter,
  type OpenOptions,
  type OpenReport,
  type ReadOptions,
} from "./eventlog/eventLog.js"
export {
  EVENT_LOG_ERROR_CODES,
  EventLogError,
  type EventLogErrorReason,
  TORN_TAIL_CODE,
} from "./eventlog/eventLogError.js"
export {
  type ActorStartedBody,
  type EventBody,
  LOG_FORMAT_NAME,
  LOG_FORMAT_VERSION,
  type LoggedEvent,
  type LogHeader,
  type LogRecord,
  type NoteBody,
  type RecordBody,
} from "./eventlog/logRecord.js"
