import { describe, expect, it } from "vitest"
import { formatBytes, progressLine, progressText } from "../../src/cli/progressLine.js"
import { CapturedOutput } from "./connectIo.js"

describe("the upload progress line", () => {
  it("formats sizes and percentages", () => {
    expect([0, 1023, 1024, 12_595, 8_493_465, 3 * 1024 ** 3].map(formatBytes)).toEqual([
      "0 B",
      "1023 B",
      "1.0 KiB",
      "12.3 KiB",
      "8.1 MiB",
      "3.0 GiB",
    ])
    expect(progressText("uploading bundle", 3_355_443, 8_493_465)).toBe(
      "uploading bundle  3.2 MiB / 8.1 MiB  39%",
    )
    expect(progressText("downloading changes", 2048, undefined)).toBe("downloading changes  2.0 KiB")
    expect(progressText("x", 10, 0)).toBe("x  10 B")
  })

  it("redraws one terminal line only when what it shows changes, and ends it once", () => {
    const out = Object.assign(new CapturedOutput(), { isTTY: true })
    const bar = progressLine(out, "uploading bundle")
    const total = 4 * 1024 * 1024
    for (let done = 0; done <= total; done += 1024) bar.update(done, total)
    bar.done()
    bar.done()
    const frames = out.text.split("\r\x1b[K").filter((f) => f !== "")
    // 0%..100% once each: sizes change faster but are only redrawn with the percentage.
    expect(frames).toHaveLength(101)
    expect(frames[0]).toBe("uploading bundle  0 B / 4.0 MiB  0%")
    expect(frames.at(-1)).toBe("uploading bundle  4.0 MiB / 4.0 MiB  100%\n")
    expect(out.text.endsWith("100%\n")).toBe(true)
  })

  it("prints nothing when the stream is not a terminal", () => {
    const out = new CapturedOutput()
    const bar = progressLine(out, "uploading bundle")
    bar.update(1, 2)
    bar.done()
    expect(out.text).toBe("")
  })
})
