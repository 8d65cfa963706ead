import { resolve } from "node:path"

/**
 * In-process wake-ups for followers: a writer announces each append on its file's absolute path, so a
 * follower in the same process sees it at once instead of waiting for `fs.watch` or a poll.
 */
const listeners = new Map<string, Set<() => void>>()

/** The key {@link notifyAppended} expects for `path`; writers compute it once, not per append. */
export function appendSignalKey(path: string): string {
  return resolve(path)
}

/** Tells followers of the file with key `key` (from {@link appendSignalKey}) that it grew. */
export function notifyAppended(key: string): void {
  if (listeners.size === 0) return
  const set = listeners.get(key)
  if (set) for (const fn of set) fn()
}

/** Calls `fn` after every in-process append to `path`; returns the unsubscribe function. */
export function onAppended(path: string, fn: () => void): () => void {
  const key = appendSignalKey(path)
  let set = listeners.get(key)
  if (!set) {
    set = new Set()
    listeners.set(key, set)
  }
  set.add(fn)
  return () => {
    const s = listeners.get(key)
    if (!s) return
    s.delete(fn)
    if (s.size === 0) listeners.delete(key)
  }
}
