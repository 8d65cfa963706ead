/**
 * Rows as aligned lines of text: every column but the last padded to its widest cell, columns two spaces
 * apart. A line whose last cell is empty ends in padding; trim it where that matters.
 *
 * @example
 * alignColumns([["ID", "NAME"], ["a1", "nightly"]]) // ["ID  NAME", "a1  nightly"]
 */
export function alignColumns(rows: ReadonlyArray<ReadonlyArray<string>>): string[] {
  const widths = (rows[0] ?? []).map((_, col) => Math.max(...rows.map((r) => (r[col] ?? "").length)))
  return rows.map((r) =>
    r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join("  "),
  )
}
