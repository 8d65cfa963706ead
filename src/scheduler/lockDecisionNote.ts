import type { LockDecision, LockHolder } from "../adapters/schedulerLockRecord.js"

const holderText = (holder: LockHolder | undefined): string =>
  holder === undefined
    ? "an unknown holder"
    : `pid ${holder.pid} (session ${holder.sessionId}) since ${new Date(holder.acquiredAt).toISOString()}`

/** One line for a lock decision, as `cron history` shows it. */
export function describeLockDecision(decision: LockDecision): string {
  switch (decision.type) {
    case "acquired":
      return `scheduler lock acquired by pid ${decision.pid} (session ${decision.sessionId})`
    case "reacquired":
      return `scheduler lock kept by session ${decision.sessionId} (pid ${decision.previousPid} → ${decision.pid})`
    case "blocked":
      return `scheduler lock not taken (${decision.reason}): held by ${holderText(decision.holder)}`
    case "stale-removed":
      return `stale scheduler lock removed (${decision.reason}) of ${holderText(decision.holder)}`
    case "released":
      return `scheduler lock released by pid ${decision.pid} (session ${decision.sessionId})`
    case "lost":
      return `scheduler lock lost: now held by ${holderText(decision.holder)}`
  }
}

/**
 * What makes two decisions the same for the log. A non-holder retries every second and is refused the same
 * way each time: only a change (another holder, another reason, acquired, lost) is worth a record.
 */
export function lockDecisionKey(decision: LockDecision): string {
  const holder = "holder" in decision ? decision.holder : undefined
  const reason = "reason" in decision ? decision.reason : ""
  return `${decision.type}|${reason}|${holder?.pid ?? ""}|${holder?.sessionId ?? ""}|${holder?.acquiredAt ?? ""}`
}
