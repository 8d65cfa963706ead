/**
 * agenthost's embeddable surface (SPEC §10). Re-exports by name; never pulls in the server or the CLI.
 */
export { Clock, type ClockShape, liveClock, ManualClock, type TimerHandle } from "./adapters/clock.js"
export {
  GIT_ERROR_CODES,
  Git,
  GitError,
  type GitErrorReason,
  type GitIsolation,
  type GitResult,
  type GitRunOptions,
  type GitShape,
  type LiveGitOptions,
  makeLiveGit,
} from "./adapters/git.js"
export { Ids, type IdsShape, liveIds, sequentialIds } from "./adapters/ids.js"
export { type ProcessProbe, type ProcessTable, probeProcess } from "./adapters/processInfo.js"
export {
  type PlainLockOptions,
  releaseSchedulerLock,
  SchedulerLock,
  type SchedulerLockShape,
  tryAcquireSchedulerLock,
} from "./adapters/schedulerLock.js"
export type { AcquireOptions, ReleaseOptions, SchedulerLockBackend } from "./adapters/schedulerLockBackend.js"
export {
  SCHEDULER_LOCK_ERROR_CODES,
  SchedulerLockError,
  type SchedulerLockErrorReason,
} from "./adapters/schedulerLockError.js"
export {
  type BlockedReason,
  type LockDecision,
  type LockHolder,
  type LockInspection,
  type LockResult,
  type SchedulerLockRecord,
  type StaleReason,
  schedulerLockPath,
} from "./adapters/schedulerLockRecord.js"
export {
  DEFAULT_LOCK_RETRY_MS,
  type HoldOptions,
  holdSchedulerLock,
  type SchedulerLockHold,
  type SchedulerLockWatch,
  type WatchOptions,
  watchSchedulerLock,
} from "./adapters/schedulerLockWatch.js"
export {
  BASH_DEFAULTS,
  isSupportedPermissionMode,
  SUPPORTED_PERMISSION_MODES,
  type SupportedPermissionMode,
} from "./agent/agentDefaults.js"
export { makeShellRunner, type ShellRunnerOptions } from "./agent/bashTool.js"
export { BuiltinAgent, type BuiltinAgentOptions, promptCommands, promptText } from "./agent/builtinAgent.js"
export type { CommandOutcome, CommandRunner, RunningCommand, RunOptions } from "./agent/commandRunner.js"
export {
  type AgentStdio,
  type BuiltinAgentSettings,
  builtinAgentVersion,
  runBuiltinAgent,
} from "./agent/runBuiltinAgent.js"
export type {
  PermissionRequest,
  PermissionResult as ClientPermissionResult,
  SdkMessage as ClientSdkMessage,
  UserContent,
} from "./client/clientMessages.js"
export { type ClientTarget, resolveClientTarget } from "./client/clientTarget.js"
export {
  type ConnectionLifecycle,
  type ConnectionObserver,
  type ConnectionPhase,
  DEFAULT_RECONNECT_POLICY,
  defaultConnectionLifecycle,
  type MakeConnectionLifecycle,
  machineConnectionLifecycle,
  type PhaseChange,
  type ReconnectPolicy,
} from "./client/connectionLifecycle.js"
export {
  DIRECT_CONNECT_ERROR_CODES,
  DirectConnectError,
  type DirectConnectErrorReason,
} from "./client/directConnectError.js"
export {
  type CreateDirectConnectSessionOptions,
  createDirectConnectSession,
  type DirectConnectConfig,
  type DirectConnectSession,
  directConnectConfigFor,
} from "./client/directConnectSession.js"
export {
  type DirectConnectCallbacks,
  type DirectConnectOptions,
  DirectConnectSessionManager,
} from "./client/directConnectSessionManager.js"
export {
  type CreatedSession,
  type CreateSessionBody,
  HostClient,
  type HostClientOptions,
  type HostSessionInfo,
} from "./client/hostClient.js"
export { classifyIncoming, type IncomingKind, isForwardedMessage } from "./client/messageFilter.js"
export {
  type DownloadedChanges,
  type HostCapabilities,
  type HostReachableRemote,
  RemoteClient,
  type RemoteClientOptions,
  type UploadedBundle,
} from "./client/remoteClient.js"
export { DEFAULT_SERVER_URL, resolveServerUrl } from "./client/serverUrl.js"
export { defaultTokenPath, readTokenFile } from "./client/tokenFile.js"
export { CRON_ERROR_CODES, CronError, type CronErrorReason, type CronFieldName } from "./cron/cronError.js"
export {
  type CronSchedule,
  parseCronExpression,
} from "./cron/cronExpression.js"
export {
  DEFAULT_TASK_FILE_LOCK_TIMEOUT_MS,
  type FileTaskStoreOptions,
  makeFileTaskStore,
} from "./cron/fileTaskStore.js"
export { jitteredNextCronRunMs, jitterFrac, oneShotJitteredNextCronRunMs } from "./cron/jitter.js"
export {
  type CronJitterConfig,
  CronJitterConfigSchema,
  DEFAULT_CRON_JITTER_CONFIG,
  validateCronJitterConfig,
} from "./cron/jitterConfig.js"
export {
  DST_SHIFT_LIMIT_MS,
  NEXT_RUN_HORIZON_MS,
  nextCronRunMs,
  nextRunOfSchedule,
} from "./cron/nextCronRun.js"
export { type SessionTask, SessionTaskStore, type SessionTaskStoreOptions } from "./cron/sessionTaskStore.js"
export {
  EMPTY_TASK_FILE_VIEW,
  parseTaskFile,
  type ScheduledTask,
  ScheduledTaskSchema,
  serializeTaskDocument,
  TASK_FILE_NAME,
  TASK_ID_PATTERN,
  type TaskFileDocument,
  type TaskFileView,
  taskFilePath,
  validateTaskEntry,
} from "./cron/taskFile.js"
export {
  DEFAULT_TASK_FILE_LOCK_STALE_MS,
  type TaskFileLockOptions,
  taskFileLockPath,
} from "./cron/taskFileLock.js"
export {
  DEFAULT_TASK_WATCH_DEBOUNCE_MS,
  DEFAULT_TASK_WATCH_POLL_MS,
  type TaskFileChange,
  type TaskFileWatch,
  type TaskFileWatchOptions,
  watchTaskFile,
} from "./cron/taskFileWatcher.js"
export {
  type NewTask,
  type TaskListing,
  type TaskStore,
  taskExpiresAtMs,
  taskNextFireMs,
} from "./cron/taskStore.js"
export { TASK_STORE_ERROR_CODES, TaskStoreError, type TaskStoreErrorReason } from "./cron/taskStoreError.js"
export { formatIsoInZone, parseIsoInZone } from "./cron/zonedIso.js"
export { checkTimeZone, hostTimeZone, isValidTimeZone } from "./cron/zoneOffset.js"
export {
  type ActorHandle,
  type EffectImpls,
  type MachineActor,
  type MachineRuntime,
  type MachineRuntimeOptions,
  makeMachineRuntime,
  type SendError,
  type StartOptions,
} from "./effects/machineRuntime.js"
export {
  EFFECT_FAILED_CODE,
  MACHINE_RUNTIME_ERROR_CODES,
  MachineRuntimeError,
  type MachineRuntimeErrorReason,
} from "./effects/machineRuntimeError.js"
export {
  type OpenedMachineRuntime,
  type OpenMachineRuntimeOptions,
  openMachineRuntime,
  scopedMachineRuntime,
} from "./effects/openMachineRuntime.js"
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
  DEFAULT_BATCH_WINDOW_MS,
  type FileEventLogOptions,
  fileEventLogLayer,
  LOG_FILE_EXTENSION,
  logFilePath,
  makeFileEventLog,
} from "./eventlog/fileEventLog.js"
export { type ReadLogFileOptions, readLogFile, readLogFileHeader } from "./eventlog/logFileReader.js"
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
export {
  makeReplayer,
  type Replayer,
  type ReplayStatus,
  type ReplaySummary,
  replayLog,
  replayStream,
  type TimelineEntry,
  verifyEventLogStream,
  verifyLog,
  verifyStream,
} from "./eventlog/replay.js"
export {
  REPLAY_ERROR_CODES,
  ReplayError,
  type ReplayErrorReason,
  type ReplayedState,
} from "./eventlog/replayError.js"
export { formatStateValue, formatTimelineLine, timelineEntryJson } from "./eventlog/replayTimeline.js"
export { parseConnectionEvent, parseConnectionInput } from "./machines/connectionEventSchema.js"
export { connectionMachine, reconnectDelayMs } from "./machines/connectionMachine.js"
export {
  CONNECTION_DEFAULTS,
  CONNECTION_EVENT,
  CONNECTION_MACHINE_NAME,
  CONNECTION_MACHINE_VERSION,
  type ConnectionContext,
  type ConnectionEffects,
  type ConnectionEndKind,
  type ConnectionEndReason,
  type ConnectionEvent,
  type ConnectionInput,
  type ReconnectSettings,
} from "./machines/connectionTypes.js"
export { parseCronTaskEvent, parseCronTaskInput } from "./machines/cronTaskEventSchema.js"
export { cronTaskMachine, expiresAt as cronTaskExpiresAt } from "./machines/cronTaskMachine.js"
export {
  CRON_TASK_EVENT,
  CRON_TASK_MACHINE_NAME,
  CRON_TASK_MACHINE_VERSION,
  type CronTaskContext,
  type CronTaskEffects,
  type CronTaskEndKind,
  type CronTaskEndReason,
  type CronTaskEvent,
  type CronTaskFacts,
  type CronTaskInput,
  type CronTaskJitterConfig,
  type CronTaskRecord,
} from "./machines/cronTaskTypes.js"
export type { BoundaryParser, MachineEvent } from "./machines/eventParser.js"
export type {
  AnyMachineDefinition,
  EffectsOf,
  EventOf,
  InputOf,
  MachineDefinition,
} from "./machines/machineDefinition.js"
export {
  MACHINE_EVENT_ERROR_CODES,
  MachineEventError,
  type MachineEventErrorReason,
} from "./machines/machineEventError.js"
export {
  connectionMachineDefinition,
  cronTaskMachineDefinition,
  defaultMachines,
  sessionMachineDefinition,
} from "./machines/machineRegistry.js"
export { parseSessionEvent, parseSessionInput } from "./machines/sessionEventSchema.js"
export { sessionMachine } from "./machines/sessionMachine.js"
export {
  DUPLICATE_PERMISSION_REQUEST_CODE,
  type PendingPermission,
  type PermissionOutcome,
  RECENT_PERMISSIONS_LIMIT,
  type ResolvedPermission,
  SESSION_DEFAULTS,
  SESSION_EVENT,
  SESSION_MACHINE_NAME,
  SESSION_MACHINE_VERSION,
  type SessionContext,
  type SessionEffects,
  type SessionEndKind,
  type SessionEndReason,
  type SessionEvent,
  type SessionInput,
  type SessionStats,
  type TodoItem,
  type TurnResult,
} from "./machines/sessionTypes.js"
export {
  contextDigest,
  contextDigestValue,
  digestHex,
  makeContextDigester,
  parseDigest,
} from "./machines/stateDigest.js"
export {
  type DecodedMessage,
  type DecodeLineOptions,
  decodeAgentLine,
  decodeMessage,
  decodePermissionResult,
  type MessageKind,
} from "./protocol/decodeMessage.js"
export {
  allowResponse,
  controlCancelRequest,
  controlError,
  controlSuccess,
  denyResponse,
  initializeRequest,
  interruptRequest,
  keepAlive,
  setPermissionModeRequest,
  type UserMessageOptions,
  userMessage,
} from "./protocol/hostMessages.js"
export { DEFAULT_MAX_LINE_BYTES } from "./protocol/limits.js"
export {
  AssistantMessage,
  CanUseToolRequest,
  CanUseToolRequestMessage,
  ContentBlock,
  ControlCancelRequestMessage,
  ControlErrorMessage,
  type ControlResponseMessage,
  ControlSuccessMessage,
  InitializeRequest,
  InitializeRequestMessage,
  InterruptRequest,
  InterruptRequestMessage,
  isTextBlock,
  isToolResultBlock,
  isToolUseBlock,
  KeepAliveMessage,
  OtherControlRequestMessage,
  OtherRequest,
  PERMISSION_MODES,
  PermissionAllow,
  PermissionDeny,
  type PermissionMode,
  PermissionResult,
  ResultMessage,
  SetPermissionModeRequest,
  SetPermissionModeRequestMessage,
  SystemInitMessage,
  SystemMessage,
  type TextBlock,
  type ToolResultBlock,
  type ToolUseBlock,
  type UnknownMessage,
  UserMessage,
} from "./protocol/messages.js"
export {
  encodeNdjsonLine,
  type NdjsonFrame,
  type NdjsonFrameError,
  type NdjsonLine,
  NdjsonSplitter,
  type NdjsonSplitterOptions,
} from "./protocol/ndjson.js"
export { PROTOCOL_ERROR_CODES, ProtocolError, type ProtocolErrorReason } from "./protocol/protocolError.js"
export { type StreamJsonItem, StreamJsonReader } from "./protocol/streamJsonReader.js"
export {
  type HeapClock,
  type HeapClockOptions,
  MAX_BASE_TIMER_MS,
  makeHeapClock,
} from "./scheduler/heapClock.js"
export { type NextFireEvent, type PlanNextFireInput, planNextFire } from "./scheduler/planNextFire.js"
export {
  type FirePrompt,
  type FireRequest,
  type ProjectScheduler,
  type ProjectSchedulerOptions,
  startProjectScheduler,
} from "./scheduler/projectScheduler.js"
export {
  PROJECT_REGISTRY_FILE,
  parseSchedulerConfig,
  registerCronProject,
  SCHEDULER_CONFIG_FILE,
  type SchedulerConfig,
} from "./scheduler/schedulerConfigFile.js"
export { SCHEDULER_ERRORS, SchedulerError, type SchedulerErrorReason } from "./scheduler/schedulerError.js"
export {
  type HistoryOptions,
  type HistoryRow,
  type HistoryWhat,
  historyOf,
  readSchedulerHistory,
  readSchedulerHistoryFile,
  type SchedulerHistory,
} from "./scheduler/schedulerHistory.js"
export { type FireNoteData, SCHEDULER_NOTE, type SchedulerNoteCode } from "./scheduler/schedulerNotes.js"
export {
  canonicalProjectDir,
  SCHEDULER_STREAM_PREFIX,
  schedulerStreamName,
} from "./scheduler/schedulerStream.js"
export {
  type ClaimOutcome,
  type ClaimRequest,
  makeTaskFileEditor,
  type TaskFileEditor,
} from "./scheduler/taskFileEditor.js"
export { type HeapEntry, TimerHeap } from "./scheduler/timerHeap.js"
export {
  startTriggerScheduling,
  TRIGGER_SCHEDULER_STREAM,
  type TriggerScheduling,
  type TriggerSchedulingOptions,
  triggerTask,
} from "./scheduler/triggerTasks.js"
export { createSnapshotBundle, type SnapshotBundle } from "./teleport/bundle.js"
export { type GitRemote, inspectRepository, type RepositoryInfo } from "./teleport/inspectRepository.js"
export { type ImportOptions, importSessionChanges, type SessionImport } from "./teleport/pullBack.js"
export {
  BASE_REF,
  HEAD_REF,
  RESULT_REF,
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_REF,
} from "./teleport/snapshot.js"
export { TELEPORT_ERRORS, TeleportError, type TeleportErrorReason } from "./teleport/teleportError.js"
export { TriggerClient, type TriggerJson, type TriggerRunJson } from "./triggers/triggerClient.js"
export { TRIGGER_ERRORS, TriggerError, type TriggerErrorReason } from "./triggers/triggerError.js"
export {
  TRIGGER_EVENT,
  type TriggerEvent,
  TriggerEventSchema,
  triggerEventOf,
  triggerEventRecord,
} from "./triggers/triggerEvents.js"
export {
  evolveTriggers,
  foldTriggerEvents,
  initialTriggerState,
  type TriggerState,
} from "./triggers/triggerFold.js"
export type {
  LaunchOutcome,
  TriggerLaunch,
  TriggerLauncher,
  TriggerRunRequest,
} from "./triggers/triggerLauncher.js"
export { nextTriggerFireMs } from "./triggers/triggerNextFire.js"
export {
  type FireOptions,
  type OpenTriggerStoreOptions,
  openTriggerStore,
  type ScheduledSlot,
  type SlotClaim,
  scopedTriggerStore,
  type TriggerListener,
  type TriggerStore,
  type TriggerStoreOptions,
} from "./triggers/triggerStore.js"
export {
  DEFAULT_HISTORY_LIMIT,
  type NewTrigger,
  type RunReason,
  type RunStatus,
  TRIGGER_ID_PATTERN,
  TRIGGERS_STREAM,
  type Trigger,
  type TriggerChanges,
  type TriggerDefinition,
  type TriggerProject,
  type TriggerRun,
  type TriggerSchedule,
  triggerJitterId,
} from "./triggers/triggerTypes.js"
