import { createHash } from "node:crypto"
import { join, resolve } from "node:path"
import type { SchedulerLockError } from "./schedulerLockError.js"

/** Directory, under the project, that holds the lock (Claude Code's own `.claude`). */
export const SCHEDULER_LOCK_DIR = ".claude"
/** The lock file's name (SPEC §7). */
export const SCHEDULER_LOCK_FILE = "scheduled_tasks.lock"

/** `<project>/.claude/scheduled_tasks.lock`, absolute. */
export function schedulerLockPath(projectDir: string): string {
  return join(resolve(projectDir), SCHEDULER_LOCK_DIR, SCHEDULER_LOCK_FILE)
}

/**
 * The lock file's content. `sessionId`, `pid` and `acquiredAt` are SPEC §7's (and what Claude Code
 * writes); the rest are ours and optional, so a lock written by another tool still parses.
 */
export interface SchedulerLockRecord {
  readonly sessionId: string
  readonly pid: number
  /** Epoch ms, from the acquirer's clock. */
  readonly acquiredAt: number
  /** The holder's start-time token (see `ProcessProbe.startTime`): tells a reused pid from the holder. */
  readonly procStart?: string
  /** The holder's host identity (see `ProcessTable.hostId`): pids of another host are not judged. */
  readonly host?: string
  /** Random per acquisition: makes each lock instance unique, so a holder can tell its own file. */
  readonly nonce?: string
}

/** Who is acting: the pid written into locks and claims, with its start time and host. */
export interface LockActor {
  readonly pid: number
  readonly procStart?: string
  readonly host?: string
}

/** One line of JSON, complete, so a single write puts a whole record in the file. */
export function encodeLockRecord(record: SchedulerLockRecord): string {
  return `${JSON.stringify(record)}\n`
}

function optionalString(value: unknown): value is string | undefined {
  return value === undefined || typeof value === "string"
}

/** Parses lock content; `undefined` when it is not a complete, well-formed record (torn or foreign). */
export function parseLockRecord(text: string): SchedulerLockRecord | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const v = value as Record<string, unknown>
  if (typeof v.sessionId !== "string" || v.sessionId === "") return undefined
  if (typeof v.pid !== "number" || !Number.isSafeInteger(v.pid) || v.pid <= 0) return undefined
  if (typeof v.acquiredAt !== "number" || !Number.isFinite(v.acquiredAt)) return undefined
  if (!optionalString(v.procStart) || !optionalString(v.host) || !optionalString(v.nonce)) return undefined
  return {
    sessionId: v.sessionId,
    pid: v.pid,
    acquiredAt: v.acquiredAt,
    ...(v.procStart === undefined ? {} : { procStart: v.procStart }),
    ...(v.host === undefined ? {} : { host: v.host }),
    ...(v.nonce === undefined ? {} : { nonce: v.nonce }),
  }
}

/** A file as read: its bytes, inode and modification time. */
export interface FileSnapshot {
  readonly text: string
  /** Inode number as text (64-bit inode numbers do not fit a double). */
  readonly ino: string
  readonly mtimeMs: number
}

/**
 * Names one lock instance: inode and content. Our records carry a random nonce, so no two instances
 * share an identity; that is what makes recovery claims (docs/scheduler-lock.md) safe to clean up.
 */
export function instanceId(file: Pick<FileSnapshot, "ino" | "text">): string {
  return createHash("sha256").update(`${file.ino}\0${file.text}`).digest("hex").slice(0, 16)
}

/** True when two reads saw the same instance. */
export function sameInstance(a: FileSnapshot, b: FileSnapshot): boolean {
  return a.ino === b.ino && a.text === b.text
}

/** The holder facts a decision or refusal reports. */
export interface LockHolder {
  readonly sessionId: string
  readonly pid: number
  readonly acquiredAt: number
}

/** Why a stale lock was removed. */
export type StaleReason = "dead-pid" | "pid-reused" | "corrupt"

/**
 * Why acquisition was refused:
 * - `held`: the holder's process is alive;
 * - `unverifiable`: the holder is on another host or pid namespace, so its pid cannot be checked;
 * - `corrupt-fresh`: the file is torn but young (a creator may be mid-write);
 * - `recovering`: another process is removing or replacing this very lock right now;
 * - `contended`: the lock kept changing under us; try again.
 */
export type BlockedReason = "held" | "unverifiable" | "corrupt-fresh" | "recovering" | "contended"

/**
 * An ownership decision, reported through `onDecision` so the scheduler can put it in its event log.
 * Past tense, one per outcome.
 */
export type LockDecision =
  | {
      readonly type: "acquired"
      readonly lockPath: string
      readonly sessionId: string
      readonly pid: number
      readonly acquiredAt: number
    }
  | {
      readonly type: "reacquired"
      readonly lockPath: string
      readonly sessionId: string
      readonly pid: number
      readonly previousPid: number
    }
  | {
      readonly type: "blocked"
      readonly lockPath: string
      readonly reason: BlockedReason
      readonly holder?: LockHolder
    }
  | {
      readonly type: "stale-removed"
      readonly lockPath: string
      readonly reason: StaleReason
      readonly holder?: LockHolder
    }
  | { readonly type: "released"; readonly lockPath: string; readonly sessionId: string; readonly pid: number }
  | {
      readonly type: "lost"
      readonly lockPath: string
      readonly sessionId: string
      readonly holder?: LockHolder
    }

/** The outcome of one acquisition attempt. Refusal is an outcome, not an error. */
export type LockResult =
  | {
      readonly acquired: true
      /** `created`: a new lock file; `reacquired`: our session's existing lock (rewritten if the pid changed). */
      readonly how: "created" | "reacquired"
      readonly lock: SchedulerLockRecord
      readonly lockPath: string
    }
  | {
      readonly acquired: false
      readonly reason: BlockedReason
      readonly holder?: SchedulerLockRecord
      readonly lockPath: string
      /** `AGH_LOCK_HELD`, with a message naming the holder, ready to print. */
      readonly error: SchedulerLockError
    }

/** What the lock file says right now, without judging it. */
export type LockInspection =
  | { readonly state: "free"; readonly lockPath: string }
  | { readonly state: "held"; readonly lockPath: string; readonly holder: SchedulerLockRecord }
  | { readonly state: "corrupt"; readonly lockPath: string; readonly ageMs: number }

/** The holder facts of a record. */
export function holderOf(record: SchedulerLockRecord): LockHolder {
  return { sessionId: record.sessionId, pid: record.pid, acquiredAt: record.acquiredAt }
}
