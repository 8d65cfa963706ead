import * as Schema from "effect/Schema"
/**
 * Schemas of the session routes' bodies: request bodies are validated with them, response schemas only
 * document (`GET /openapi.json`). An optional field may also be sent as `null`, meaning absent.
 */
export const CreateSessionBody = Schema.Struct({
  cwd: Schema.optionalKey(
    Schema.NullOr(Schema.NonEmptyString).annotate({
      description:
        "Absolute path of an existing directory inside a configured work root; absent: a fresh one",
    }),
  ),
  prompt: Schema.optionalKey(Schema.NullOr(Schema.String).annotate({ description: "First user message" })),
  agent: Schema.optionalKey(
    Schema.NullOr(Schema.NonEmptyString).annotate({
      description: "A configured agent; default: default_agent",
    }),
  ),
  title: Schema.optionalKey(Schema.NullOr(Schema.String)),
  bundle_id: Schema.optionalKey(
    Schema.NullOr(Schema.NonEmptyString).annotate({
      description: "From POST /bundles (needs allow_remote_sessions)",
    }),
  ),
  clone_url: Schema.optionalKey(
    Schema.NullOr(Schema.NonEmptyString).annotate({
      description:
        "A repository the host clones itself instead of a bundle (needs allow_remote_sessions; the host must " +
        "list it in POST /host/reachable-remotes)",
    }),
  ),
  clone_ref: Schema.optionalKey(
    Schema.NullOr(Schema.NonEmptyString).annotate({
      description: "Branch or commit of clone_url to check out; default its HEAD",
    }),
  ),
  dangerously_skip_permissions: Schema.optionalKey(
    Schema.NullOr(Schema.Boolean).annotate({ description: "Needs allow_skip_permissions" }),
  ),
})

export type CreateSessionBody = typeof CreateSessionBody.Type

const Status = Schema.Literals([
  "starting",
  "idle",
  "busy",
  "awaiting_permission",
  "completed",
  "failed",
  "killed",
])

export const CreateSessionResponse = Schema.Struct({
  session_id: Schema.String,
  ws_url: Schema.String,
  work_dir: Schema.String,
  status: Status,
}).annotate({ identifier: "CreateSessionResponse" })

export const SessionInfoDoc = Schema.Struct({
  id: Schema.String,
  title: Schema.String,
  status: Status,
  agent: Schema.String,
  work_dir: Schema.String,
  start_time: Schema.String.annotate({ description: "ISO-8601" }),
  end_time: Schema.optionalKey(Schema.String),
  end_reason: Schema.optionalKey(Schema.String),
  todo_list: Schema.Array(
    Schema.Struct({
      content: Schema.String,
      status: Schema.String,
      activeForm: Schema.optionalKey(Schema.String),
    }),
  ),
  last_seq: Schema.Int,
  pending_permissions: Schema.Int,
  dangerously_skip_permissions: Schema.Boolean,
  ws_url: Schema.String,
}).annotate({ identifier: "SessionInfo" })

export const SessionListDoc = Schema.Struct({ sessions: Schema.Array(SessionInfoDoc) }).annotate({
  identifier: "SessionList",
})

const SeqMessageDoc = Schema.Record(Schema.String, Schema.Unknown).annotate({
  identifier: "SeqMessage",
  description: "An SDK message (stream-json) with its gap-free per-session `seq`",
})

export const MessagesDoc = Schema.Struct({
  session_id: Schema.String,
  messages: Schema.Array(SeqMessageDoc),
  last_seq: Schema.Int.annotate({ description: "The session's last seq when the page was read" }),
}).annotate({ identifier: "MessagePage" })

export const ErrorDoc = Schema.Struct({
  error: Schema.Struct({
    code: Schema.String.annotate({ description: "Stable AGH_* code (docs/errors.md)" }),
    message: Schema.String,
  }),
}).annotate({ identifier: "Error" })

export const NonNegativeIntDoc = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
