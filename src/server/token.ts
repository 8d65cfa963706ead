import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { closeSync, constants, fstatSync, openSync, readFileSync, writeSync } from "node:fs"
import { HostSetupError } from "./hostSetupError.js"

/** 32 random bytes, hex: what `<home>/token` holds. */
const TOKEN_PATTERN = /^[0-9a-f]{64}$/

/**
 * Creates `<home>/token` with a fresh random token (mode 0600, `O_EXCL` so a token that exists is never
 * overwritten, even by a second host racing this one) or reads the existing one. Refuses a token file that
 * group or others can read: anyone who can read it can drive the agents.
 */
export function ensureToken(path: string): { readonly token: string; readonly created: boolean } {
  let fd: number
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") return { token: readToken(path), created: false }
    throw new HostSetupError({
      reason: "HomeUnusable",
      message: `cannot create token file ${path}: ${(cause as Error).message}`,
      path,
      cause,
    })
  }
  const token = randomBytes(32).toString("hex")
  try {
    writeSync(fd, `${token}\n`)
  } finally {
    closeSync(fd)
  }
  return { token, created: true }
}

/** Reads an existing token file, checking its mode first. */
export function readToken(path: string): string {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY)
  } catch (cause) {
    throw new HostSetupError({
      reason: "TokenInvalid",
      message: `cannot read token file ${path}: ${(cause as Error).message}`,
      path,
      cause,
    })
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) {
      throw new HostSetupError({ reason: "TokenInvalid", message: `token file ${path} is not a file`, path })
    }
    const mode = stat.mode & 0o777
    if ((mode & 0o077) !== 0) {
      throw new HostSetupError({
        reason: "TokenInsecure",
        message: `token file ${path} has mode 0${mode.toString(8)}: group or others can read it; run \`chmod 600 ${path}\``,
        path,
      })
    }
    const token = readFileSync(fd, "utf8").trim()
    if (!TOKEN_PATTERN.test(token)) {
      throw new HostSetupError({
        reason: "TokenInvalid",
        message: `token file ${path} does not hold a 64-character hex token; delete it to have a new one made`,
        path,
      })
    }
    return token
  } finally {
    closeSync(fd)
  }
}

/**
 * A constant-time token check. Both sides are hashed first so `timingSafeEqual` always compares equal-length
 * buffers and the comparison time does not reveal the token's length either.
 */
export function makeTokenVerifier(token: string): (presented: string) => boolean {
  const expected = createHash("sha256").update(token).digest()
  return (presented) => timingSafeEqual(createHash("sha256").update(presented).digest(), expected)
}
