import { readFileSync } from "node:fs"
import { join } from "node:path"
import { DirectConnectError } from "./directConnectError.js"

/** Where `agenthost serve` keeps the token: `<home>/token` (SPEC §8). */
export function defaultTokenPath(home: string): string {
  return join(home, "token")
}

/**
 * Reads the bearer token from a file. Clients take the token only from a file — never argv (visible in `ps`)
 * nor the environment (inherited by every child) — SPEC §8. Surrounding whitespace is ignored so a token
 * written with `echo` works.
 *
 * @throws DirectConnectError `TokenFile` naming the path when the file is missing, unreadable or empty.
 */
export function readTokenFile(path: string): string {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (cause) {
    const errno = (cause as { code?: unknown }).code
    const why =
      errno === "ENOENT"
        ? "does not exist (start `agenthost serve` once to create it, or pass --token-file)"
        : `cannot be read (${String(errno ?? cause)})`
    throw new DirectConnectError({ reason: "TokenFile", message: `token file ${path} ${why}`, cause })
  }
  const token = text.trim()
  if (token === "") {
    throw new DirectConnectError({ reason: "TokenFile", message: `token file ${path} is empty` })
  }
  if (/\s/.test(token)) {
    throw new DirectConnectError({
      reason: "TokenFile",
      message: `token file ${path} holds more than one word; it must contain only the token`,
    })
  }
  return token
}
