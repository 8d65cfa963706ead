import { PassThrough, Writable } from "node:stream"
import type { CliIo } from "../../src/cli/cliCommand.js"

/** A writable that keeps what was written and lets a test await a pattern in it. */
export class CapturedOutput extends Writable {
  text = ""
  private waiters: Array<{ readonly pattern: RegExp; readonly resolve: () => void }> = []

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString()
    const ready = this.waiters.filter((w) => w.pattern.test(this.text))
    this.waiters = this.waiters.filter((w) => !ready.includes(w))
    for (const w of ready) w.resolve()
    callback()
  }

  /** Resolves once the output matches `pattern`. */
  waitFor(pattern: RegExp): Promise<void> {
    if (pattern.test(this.text)) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ pattern, resolve }))
  }

  /** The output without terminal escape sequences and carriage returns. */
  plain(): string {
    return this.text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "")
  }
}

/** In-process io for `main([...], io)`: captured stdout/stderr and a stdin the test writes to. */
export function fakeIo(options: { readonly cwd: string; readonly tty?: boolean }): {
  readonly io: CliIo
  readonly stdin: PassThrough & { isTTY?: boolean }
  readonly stdout: CapturedOutput
  readonly stderr: CapturedOutput
} {
  const stdin: PassThrough & { isTTY?: boolean } = new PassThrough()
  if (options.tty === true) stdin.isTTY = true
  const stdout = new CapturedOutput()
  const stderr = new CapturedOutput()
  return { io: { stdin, stdout, stderr, env: {}, cwd: options.cwd }, stdin, stdout, stderr }
}
