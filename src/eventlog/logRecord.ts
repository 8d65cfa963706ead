/**
 * What an event log holds. These shapes are the on-disk/on-wire protocol of the log (docs/eventlog.md):
 * add fields, never rename them, and bump {@link LOG_FORMAT_VERSION} for anything a reader must know.
 */

/** Format version written in every header. Readers refuse versions they do not know. */
export const LOG_FORMAT_VERSION = 1
export const LOG_FORMAT_NAME = "agenthost.eventlog"

/** First record of every stream. Not counted in `seq`. */
export interface LogHeader {
  readonly format: typeof LOG_FORMAT_NAME
  readonly version: number
  readonly stream: string
  /** Epoch ms from the injected clock when the stream was created. */
  readonly createdAt: number
  /** Free-form, msgpack-able facts about the writer (host version, kind of stream). */
  readonly meta: Readonly<Record<string, unknown>>
}

/** A machine event as logged: dot-namespaced `type` plus its payload fields. */
export interface LoggedEvent {
  readonly type: string
  readonly [field: string]: unknown
}

/** An actor (one machine instance) began; its input is what replay starts it with. */
export interface ActorStartedBody {
  readonly type: "actor.started"
  readonly actor: string
  readonly machine: string
  readonly machineVersion: number
  readonly input: unknown
  /** State value right after start (initial state, with any eventless transitions taken). */
  readonly state: unknown
  /** Digest of the context right after start. */
  readonly digest: string
}

/** An event an actor received, and the state it reached. */
export interface EventBody {
  readonly type: "event"
  readonly actor: string
  readonly event: LoggedEvent
  /** xstate state value after the event. */
  readonly state: unknown
  /** Digest of the context after the event (see machineRuntime). */
  readonly digest: string
}

/** Something the runtime observed that is not a machine event (an error it recovered from, say). */
export interface NoteBody {
  readonly type: "note"
  readonly actor?: string
  readonly code: string
  readonly message: string
  readonly data?: unknown
}

export type RecordBody = ActorStartedBody | EventBody | NoteBody

/** A record as stored: gap-free `seq` from 1 and the clock's time of the append. */
export interface LogRecord<B extends RecordBody = RecordBody> {
  readonly seq: number
  readonly at: number
  readonly body: B
}
