import type { SessionContext, SessionEvent } from "../machines/sessionTypes.js"
import type { SdkMessage } from "./sessionHandle.js"

/**
 * The messages a session's clients see, as a pure function of one logged event and the session's context
 * before and after it. Live sessions and sessions rebuilt from their log (after a host restart) both derive
 * their history with it, so the two can never disagree, and the message bodies are stored once: in the
 * events themselves.
 */
export function historyEntriesOf(
  before: SessionContext,
  event: SessionEvent,
  after: SessionContext,
): ReadonlyArray<SdkMessage> {
  const out: SdkMessage[] = []
  switch (event.type) {
    case "session.userMessage":
      // Echoed (as the real CLI does with --replay-user-messages) so a client attaching later sees the prompts.
      if (after.droppedMessages === before.droppedMessages) {
        out.push({
          type: "user",
          message: { role: "user", content: event.content },
          parent_tool_use_id: null,
          session_id: after.sessionId,
          uuid: event.messageId,
          isReplay: true,
        })
      }
      break
    case "session.agentMessage":
      out.push(event.message)
      break
    case "session.permissionRequested":
      if (event.request !== undefined && after.pendingPermissions[event.requestId] !== undefined) {
        out.push(event.request)
      }
      break
    case "session.turnCompleted":
      out.push(event.result)
      break
    default:
      break
  }
  // A prompt that stopped being pending was answered, withdrawn, expired or ended with its turn: every
  // client still showing it is told to drop it. (The winner's client ignores the cancel of its own answer.)
  // A session that ended leaves nothing to answer, whatever its final context still lists.
  const ended = after.endReason !== null
  for (const requestId of Object.keys(before.pendingPermissions)) {
    if (ended || after.pendingPermissions[requestId] === undefined) {
      out.push({ type: "control_cancel_request", request_id: requestId })
    }
  }
  return out
}
