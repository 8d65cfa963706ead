import { readFileSync } from "node:fs"

/**
 * The UTF-8 text of `path`, or `null` when there is no such file: a missing tasks or config file is a state
 * (no tasks, the defaults), not an error. Any other system error is thrown.
 */
export function readTextIfExists(path: string): string | null {
  try {
    return readFileSync(path, "utf8")
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null
    throw error
  }
}
