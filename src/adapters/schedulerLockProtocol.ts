import { basename, dirname, join } from "node:path"
import type { ProcessProbe } from "./processInfo.js"
import { formatLockTime, SchedulerLockError } from "./schedulerLockError.js"
import {
  type BlockedReason,
  encodeLockRecord,
  type FileSnapshot,
  holderOf,
  instanceId,
  type LockActor,
  type LockDecision,
  type LockInspection,
  type LockResult,
  parseLockRecord,
  type SchedulerLockRecord,
  type StaleReason,
  sameInstance,
} from "./schedulerLockRecord.js"

/**
 * One primitive step of the lock protocol. The protocol is written as generators that yield these, so
 * the same code runs on real files (one synchronous syscall per op), on the in-memory world, and under a
 * test scheduler that interleaves the steps of several "processes" and kills them between any two.
 * The argument for why it is safe is in docs/scheduler-lock.md; the op boundaries are the atomic steps
 * it reasons about.
 */
export type LockOp =
  | { readonly op: "mkdir"; readonly dir: string }
  | { readonly op: "read"; readonly path: string }
  /** Create an empty file with O_EXCL, keeping it open. */
  | { readonly op: "openExcl"; readonly path: string }
  | { readonly op: "write"; readonly handle: number; readonly text: string }
  | { readonly op: "close"; readonly handle: number }
  /** Inode currently at `path`. */
  | { readonly op: "ino"; readonly path: string }
  /** Atomically create `path` already holding `text` (written to `tmp`, hard-linked into place). */
  | { readonly op: "createComplete"; readonly path: string; readonly tmp: string; readonly text: string }
  /** Atomically replace `path` with `text` (written to `tmp`, renamed over it). */
  | { readonly op: "replace"; readonly path: string; readonly tmp: string; readonly text: string }
  | { readonly op: "unlink"; readonly path: string }
  | { readonly op: "list"; readonly dir: string }
  | { readonly op: "now" }
  | { readonly op: "nonce" }
  | { readonly op: "probe"; readonly pid: number }
  | { readonly op: "decide"; readonly decision: LockDecision }

/** A program of the protocol, returning `A`. Each yielded op is answered with its result. */
export type LockProgram<A> = Generator<LockOp, A, unknown>

function* perform<A>(op: LockOp): LockProgram<A> {
  return (yield op) as A
}

/** Typed constructors for each op: the executor's answer type is fixed here, once. */
const ops = {
  mkdir: (dir: string) => perform<void>({ op: "mkdir", dir }),
  read: (path: string) => perform<FileSnapshot | undefined>({ op: "read", path }),
  openExcl: (path: string) => perform<{ handle: number; ino: string } | undefined>({ op: "openExcl", path }),
  write: (handle: number, text: string) => perform<void>({ op: "write", handle, text }),
  close: (handle: number) => perform<void>({ op: "close", handle }),
  ino: (path: string) => perform<string | undefined>({ op: "ino", path }),
  createComplete: (path: string, tmp: string, text: string) =>
    perform<boolean>({ op: "createComplete", path, tmp, text }),
  replace: (path: string, tmp: string, text: string) => perform<void>({ op: "replace", path, tmp, text }),
  unlink: (path: string) => perform<boolean>({ op: "unlink", path }),
  list: (dir: string) => perform<ReadonlyArray<string>>({ op: "list", dir }),
  now: () => perform<number>({ op: "now" }),
  nonce: () => perform<string>({ op: "nonce" }),
  probe: (pid: number) => perform<ProcessProbe>({ op: "probe", pid }),
  decide: (decision: LockDecision) => perform<void>({ op: "decide", decision }),
}

/** How long a torn (unparsable) lock or claim file is presumed to be mid-write before it counts as stale. */
export const DEFAULT_CORRUPT_GRACE_MS = 5_000
/** Attempts per acquisition: create, or recover a stale lock and create again, when files change under us. */
const MAX_PASSES = 3
/**
 * A sanity bound on the claim chain of one instance. Each level exists only because a recoverer died
 * mid-recovery, so real chains are a level or two long; a cap low enough to be reached would strand the
 * instance for good, since dead claims are only cleaned once the instance is gone.
 */
const MAX_CLAIM_LEVELS = 1_000
/** A temp file older than this was left by a process killed between writing and linking it. */
const TEMP_MAX_AGE_MS = 60_000

/** What every program needs to know. */
export interface LockProgramInput {
  readonly lockPath: string
  readonly sessionId: string
  readonly self: LockActor
  readonly corruptGraceMs: number
}

function claimPrefix(lockPath: string): string {
  return `${basename(lockPath)}.claim-`
}

/** The claim file of level `level` for the lock instance `iid`. */
export function claimPath(lockPath: string, iid: string, level: number): string {
  return join(dirname(lockPath), `${claimPrefix(lockPath)}${iid}-${level}`)
}

function tempPath(lockPath: string, nonce: string): string {
  return `${lockPath}.tmp-${nonce}`
}

interface ClaimRecord extends LockActor {
  readonly at: number
}

function encodeClaim(claim: ClaimRecord): string {
  return `${JSON.stringify(claim)}\n`
}

function parseClaim(text: string): ClaimRecord | undefined {
  try {
    const v: unknown = JSON.parse(text)
    if (typeof v !== "object" || v === null) return undefined
    const c = v as Record<string, unknown>
    if (typeof c.pid !== "number" || !Number.isSafeInteger(c.pid) || c.pid <= 0) return undefined
    if (typeof c.at !== "number") return undefined
    return {
      pid: c.pid,
      at: c.at,
      ...(typeof c.procStart === "string" ? { procStart: c.procStart } : {}),
      ...(typeof c.host === "string" ? { host: c.host } : {}),
    }
  } catch {
    return undefined
  }
}

function actorFields(self: LockActor): Partial<LockActor> {
  return {
    ...(self.procStart === undefined ? {} : { procStart: self.procStart }),
    ...(self.host === undefined ? {} : { host: self.host }),
  }
}

/** True when `actor` (a lock's or claim's writer) is this very process. */
function isSelf(actor: LockActor, self: LockActor): boolean {
  return (
    actor.pid === self.pid &&
    (actor.procStart === undefined || self.procStart === undefined || actor.procStart === self.procStart) &&
    (actor.host === undefined || self.host === undefined || actor.host === self.host)
  )
}

type Liveness = "alive" | "unverifiable" | "dead-pid" | "pid-reused"

/**
 * Judges the process that wrote a lock or claim. Only a definite answer counts as dead: a pid of another
 * host cannot be probed, and without a recorded start time a live pid is presumed to be the writer.
 */
function* livenessOf(actor: LockActor, self: LockActor): LockProgram<Liveness> {
  if (actor.host !== undefined && self.host !== undefined && actor.host !== self.host) return "unverifiable"
  const probe = yield* ops.probe(actor.pid)
  if (!probe.alive) return "dead-pid"
  if (actor.procStart !== undefined && probe.startTime !== undefined && actor.procStart !== probe.startTime) {
    return "pid-reused"
  }
  return "alive"
}

type Verdict =
  | { readonly kind: "self"; readonly record: SchedulerLockRecord }
  | { readonly kind: "own-session"; readonly record: SchedulerLockRecord }
  | { readonly kind: "alive"; readonly reason: "held" | "unverifiable"; readonly record: SchedulerLockRecord }
  | { readonly kind: "corrupt-fresh" }
  | { readonly kind: "stale"; readonly reason: StaleReason; readonly record?: SchedulerLockRecord }

function* judge(input: LockProgramInput, seen: FileSnapshot): LockProgram<Verdict> {
  const record = parseLockRecord(seen.text)
  if (record === undefined) {
    // A creator writes right after its O_EXCL open, so a torn file is only stale once it has stayed
    // torn for longer than any live writer could take.
    const now = yield* ops.now()
    return now - seen.mtimeMs >= input.corruptGraceMs
      ? { kind: "stale", reason: "corrupt" }
      : { kind: "corrupt-fresh" }
  }
  if (record.sessionId === input.sessionId) {
    return isSelf(record, input.self) ? { kind: "self", record } : { kind: "own-session", record }
  }
  const liveness = yield* livenessOf(record, input.self)
  if (liveness === "alive") return { kind: "alive", reason: "held", record }
  if (liveness === "unverifiable") return { kind: "alive", reason: "unverifiable", record }
  return { kind: "stale", reason: liveness, record }
}

type ClaimOutcome<A> =
  | { readonly kind: "done"; readonly value: A }
  | { readonly kind: "busy" }
  | { readonly kind: "changed" }

/**
 * Runs `work` as the one live process entitled to remove or replace the lock instance `seen`. Claims are
 * created atomically (complete content), one name per instance and level; a claim whose owner died
 * passes the role to the next level, so no claim file is ever removed while its instance may still be
 * at the lock path. `work` must re-read the lock and act only if the instance is still there.
 */
function* underClaim<A>(
  input: LockProgramInput,
  seen: FileSnapshot,
  work: () => LockProgram<A>,
): LockProgram<ClaimOutcome<A>> {
  const iid = instanceId(seen)
  let level = 0
  for (let l = 1; l <= MAX_CLAIM_LEVELS; l++) {
    const path = claimPath(input.lockPath, iid, l)
    const now = yield* ops.now()
    const nonce = yield* ops.nonce()
    const claim = encodeClaim({ pid: input.self.pid, ...actorFields(input.self), at: now })
    if (yield* ops.createComplete(path, tempPath(input.lockPath, nonce), claim)) {
      level = l
      break
    }
    const existing = yield* ops.read(path)
    // Its owner finished and cleaned up: what we saw is probably gone. Look again.
    if (existing === undefined) return { kind: "changed" }
    const owner = parseClaim(existing.text)
    if (owner === undefined) {
      // Only the no-hard-link fallback writes claims non-atomically; treat like a torn lock.
      if (now - existing.mtimeMs < input.corruptGraceMs) return { kind: "busy" }
      continue
    }
    // Our own leftover (a failed cleanup): programs of one process never overlap, so nobody is using it.
    if (isSelf(owner, input.self)) continue
    const liveness = yield* livenessOf(owner, input.self)
    if (liveness === "alive" || liveness === "unverifiable") return { kind: "busy" }
  }
  if (level === 0) return { kind: "busy" }
  try {
    return { kind: "done", value: yield* work() }
  } finally {
    // Lower levels belong to dead owners; the instance is gone or re-judged, so the chain can go.
    for (let l = level; l >= 1; l--) yield* ops.unlink(claimPath(input.lockPath, iid, l))
  }
}

type CreateOutcome =
  | { readonly kind: "created"; readonly record: SchedulerLockRecord; readonly iid: string }
  | { readonly kind: "exists" }
  | { readonly kind: "lost" }

function* newRecord(input: LockProgramInput): LockProgram<SchedulerLockRecord> {
  const acquiredAt = yield* ops.now()
  const nonce = yield* ops.nonce()
  return { sessionId: input.sessionId, pid: input.self.pid, acquiredAt, ...actorFields(input.self), nonce }
}

function* createLock(input: LockProgramInput): LockProgram<CreateOutcome> {
  const record = yield* newRecord(input)
  const text = encodeLockRecord(record)
  const opened = yield* ops.openExcl(input.lockPath)
  if (opened === undefined) return { kind: "exists" }
  let ino: string | undefined
  try {
    yield* ops.write(opened.handle, text)
    // Checked while the file is still open, so its inode number cannot have been reused yet: a
    // different inode means our file was removed as torn while we stalled before writing it.
    ino = yield* ops.ino(input.lockPath)
  } finally {
    yield* ops.close(opened.handle)
  }
  if (ino !== opened.ino) return { kind: "lost" }
  return { kind: "created", record, iid: instanceId({ ino, text }) }
}

/** Removes claims of instances no longer at the lock path, and temp files of killed writers. */
function* sweep(input: LockProgramInput, currentIid: string): LockProgram<void> {
  const dir = dirname(input.lockPath)
  const claims = claimPrefix(input.lockPath)
  const temps = `${basename(input.lockPath)}.tmp-`
  const names = yield* ops.list(dir)
  const now = yield* ops.now()
  for (const name of names) {
    if (name.startsWith(claims)) {
      if (!name.startsWith(`${claims}${currentIid}-`)) yield* ops.unlink(join(dir, name))
    } else if (name.startsWith(temps)) {
      const file = yield* ops.read(join(dir, name))
      if (file !== undefined && now - file.mtimeMs > TEMP_MAX_AGE_MS) yield* ops.unlink(join(dir, name))
    }
  }
}

function refusalMessage(
  input: LockProgramInput,
  reason: BlockedReason,
  holder: SchedulerLockRecord | undefined,
  now: number,
): string {
  const who =
    holder === undefined
      ? ""
      : `pid ${holder.pid} (session ${holder.sessionId}) since ${formatLockTime(holder.acquiredAt, now)}`
  switch (reason) {
    case "held":
      return `lock held by ${who} (${input.lockPath})`
    case "unverifiable":
      return `lock held by ${who} on host ${holder?.host ?? "?"}, whose pid cannot be checked from here; remove ${input.lockPath} if that process is gone`
    case "corrupt-fresh":
      return `lock file ${input.lockPath} is torn but younger than ${input.corruptGraceMs} ms (a writer may be mid-write); retry`
    case "recovering":
      return `lock ${holder === undefined ? "" : `held by ${who} `}is being recovered or replaced by another process (${input.lockPath}); retry`
    case "contended":
      return `lock ${input.lockPath} kept changing during acquisition; retry`
  }
}

function* refuse(
  input: LockProgramInput,
  reason: BlockedReason,
  holder: SchedulerLockRecord | undefined,
): LockProgram<LockResult> {
  const now = yield* ops.now()
  yield* ops.decide({
    type: "blocked",
    lockPath: input.lockPath,
    reason,
    ...(holder === undefined ? {} : { holder: holderOf(holder) }),
  })
  return {
    acquired: false,
    reason,
    ...(holder === undefined ? {} : { holder }),
    lockPath: input.lockPath,
    error: new SchedulerLockError({
      reason: "Held",
      path: input.lockPath,
      message: refusalMessage(input, reason, holder, now),
    }),
  }
}

/** Our own session's lock is ours again, as `lock` (the record found, or the one that replaced it). */
function* reacquire(
  input: LockProgramInput,
  previousPid: number,
  lock: SchedulerLockRecord,
): LockProgram<LockResult> {
  yield* ops.decide({
    type: "reacquired",
    lockPath: input.lockPath,
    sessionId: input.sessionId,
    pid: input.self.pid,
    previousPid,
  })
  return { acquired: true, how: "reacquired", lock, lockPath: input.lockPath }
}

/**
 * Tries once to take the lock: O_EXCL create; else our own session's lock is kept (or rewritten with our
 * pid); a live holder refuses; a stale one (dead pid, reused pid, long-torn file) is removed under a claim
 * and creation retried.
 */
export function* acquireProgram(input: LockProgramInput): LockProgram<LockResult> {
  const { lockPath } = input
  yield* ops.mkdir(dirname(lockPath))
  let lastHolder: SchedulerLockRecord | undefined
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const created = yield* createLock(input)
    if (created.kind === "created") {
      const { record } = created
      yield* ops.decide({
        type: "acquired",
        lockPath,
        sessionId: record.sessionId,
        pid: record.pid,
        acquiredAt: record.acquiredAt,
      })
      yield* sweep(input, created.iid)
      return { acquired: true, how: "created", lock: record, lockPath }
    }
    if (created.kind === "lost") continue
    const seen = yield* ops.read(lockPath)
    if (seen === undefined) continue
    const verdict = yield* judge(input, seen)
    switch (verdict.kind) {
      case "self":
        return yield* reacquire(input, verdict.record.pid, verdict.record)
      case "alive":
        return yield* refuse(input, verdict.reason, verdict.record)
      case "corrupt-fresh":
        return yield* refuse(input, "corrupt-fresh", undefined)
      case "own-session": {
        const outcome = yield* underClaim(input, seen, function* () {
          const again = yield* ops.read(lockPath)
          if (again === undefined || !sameInstance(again, seen)) return undefined
          const record = yield* newRecord(input)
          yield* ops.replace(lockPath, tempPath(lockPath, record.nonce ?? "x"), encodeLockRecord(record))
          return record
        })
        if (outcome.kind === "busy") return yield* refuse(input, "recovering", verdict.record)
        if (outcome.kind === "done" && outcome.value !== undefined) {
          return yield* reacquire(input, verdict.record.pid, outcome.value)
        }
        lastHolder = verdict.record
        continue
      }
      case "stale": {
        const outcome = yield* underClaim(input, seen, function* () {
          const again = yield* ops.read(lockPath)
          if (again === undefined || !sameInstance(again, seen)) return false
          // Re-judged under the claim: a torn file may have aged differently, a pid may be back.
          if ((yield* judge(input, again)).kind !== "stale") return false
          return yield* ops.unlink(lockPath)
        })
        if (outcome.kind === "busy") return yield* refuse(input, "recovering", verdict.record)
        if (outcome.kind === "done" && outcome.value) {
          yield* ops.decide({
            type: "stale-removed",
            lockPath,
            reason: verdict.reason,
            ...(verdict.record === undefined ? {} : { holder: holderOf(verdict.record) }),
          })
        }
        lastHolder = verdict.record
        continue
      }
    }
  }
  return yield* refuse(input, "contended", lastHolder)
}

/**
 * Removes the lock if this process holds it for `sessionId`. Goes through a claim like every other
 * removal, so it cannot remove a lock another process of the same session has just rewritten.
 */
export function* releaseProgram(input: LockProgramInput): LockProgram<boolean> {
  const { lockPath } = input
  const seen = yield* ops.read(lockPath)
  if (seen === undefined) return false
  const record = parseLockRecord(seen.text)
  if (record === undefined || record.sessionId !== input.sessionId || !isSelf(record, input.self))
    return false
  const outcome = yield* underClaim(input, seen, function* () {
    const again = yield* ops.read(lockPath)
    if (again === undefined || !sameInstance(again, seen)) return false
    return yield* ops.unlink(lockPath)
  })
  if (outcome.kind !== "done" || !outcome.value) return false
  yield* ops.decide({ type: "released", lockPath, sessionId: input.sessionId, pid: input.self.pid })
  return true
}

/** Reads the lock without judging it. */
export function* inspectProgram(lockPath: string): LockProgram<LockInspection> {
  const seen = yield* ops.read(lockPath)
  if (seen === undefined) return { state: "free", lockPath }
  const holder = parseLockRecord(seen.text)
  if (holder !== undefined) return { state: "held", lockPath, holder }
  const now = yield* ops.now()
  return { state: "corrupt", lockPath, ageMs: Math.max(0, now - seen.mtimeMs) }
}

/**
 * Runs a program to completion, answering each op with `execute`. An op that throws is thrown into the
 * program, so its `finally` blocks (claim cleanup) still run before the error propagates.
 */
export function runLockProgram<A>(program: LockProgram<A>, execute: (op: LockOp) => unknown): A {
  let step = program.next()
  while (!step.done) {
    let result: unknown
    try {
      result = execute(step.value)
    } catch (error) {
      step = program.throw(error)
      continue
    }
    step = program.next(result)
  }
  return step.value
}
