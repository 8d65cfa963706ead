import { existsSync, readFileSync } from "node:fs"

/**
 * True while `pid` runs. A zombie counts as dead: in containers whose init reaps orphans lazily, a killed
 * grandchild can linger as a zombie for a second or more, and it no longer runs anything.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z"
  } catch {
    // No procfs (macOS): kill(0) succeeding is the best answer; a vanished /proc entry means gone.
    return !existsSync("/proc/self")
  }
}
