/** Bytes for people: `812 B`, `12.3 KiB`, `8.1 MiB`, `1.2 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ["KiB", "MiB", "GiB", "TiB"]
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

/** The text of one progress step, e.g. `uploading bundle  3.2 MiB / 8.1 MiB  40%`. */
export function progressText(label: string, done: number, total: number | undefined): string {
  if (total === undefined || total <= 0) return `${label}  ${formatBytes(done)}`
  const percent = Math.min(100, Math.floor((done / total) * 100))
  return `${label}  ${formatBytes(done)} / ${formatBytes(total)}  ${percent}%`
}

/** A progress display: `update` as bytes move, `done` once at the end. */
export interface ProgressLine {
  readonly update: (done: number, total: number | undefined) => void
  readonly done: () => void
}

/**
 * One updating line on a terminal (`\r` + erase), redrawn only when the shown percentage (or, without a
 * total, the shown size) changes, so a fast transfer does not flood the terminal. Off a terminal it prints
 * nothing: a log file should not fill with carriage returns.
 */
export function progressLine(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  label: string,
): ProgressLine {
  if (stream.isTTY !== true) return { update: () => undefined, done: () => undefined }
  let shown = ""
  let drawn = false
  return {
    update: (done, total) => {
      const text = progressText(label, done, total)
      const key = total === undefined || total <= 0 ? text : text.slice(text.lastIndexOf(" "))
      if (key === shown) return
      shown = key
      drawn = true
      stream.write(`\r\x1b[K${text}`)
    },
    done: () => {
      if (drawn) stream.write("\n")
      drawn = false
    },
  }
}
