import * as SchemaIssue from "effect/SchemaIssue"
/** One schema failure, located. */
export interface FieldIssue {
  /** Dotted path of the offending field (`agents.claude.args[0]`), or `""` for the value itself. */
  readonly field: string
  readonly message: string
}

/** Messages quote the rejected value (`reportInput`); a huge value must not make a huge error. */
const MAX_MESSAGE = 200

const standardFormatter = SchemaIssue.makeFormatterStandardSchemaV1({
  leafHook: (issue) => {
    // Said plainly: the input is someone's JSON, not a schema.
    if (issue._tag === "UnexpectedKey") return "unknown field"
    if (issue._tag === "MissingKey") return "missing"
    return SchemaIssue.defaultLeafHook(issue)
  },
})

/** Renders a key path the way a person would type it: `a.b[0].c`, quoting keys that are not identifiers. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ""
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) out += out === "" ? key : `.${key}`
    else out += `[${JSON.stringify(String(key))}]`
  }
  return out
}

/** Every failure in a schema issue, each with the field it is about. */
export function fieldIssues(issue: SchemaIssue.Issue): ReadonlyArray<FieldIssue> {
  const result = standardFormatter(issue)
  return result.issues.map((i) => ({
    field: formatPath((i.path ?? []).map((p) => (typeof p === "object" && p !== null ? p.key : p))),
    message: i.message.length > MAX_MESSAGE ? `${i.message.slice(0, MAX_MESSAGE)}…` : i.message,
  }))
}

/**
 * One line naming every offending field, e.g. `field "cwd": Expected string; field "port": Expected an
 * integer`. Messages must name the field (SPEC §4), so the value-level failure says "the body".
 */
export function describeIssues(issue: SchemaIssue.Issue, whole = "value"): string {
  return fieldIssues(issue)
    .map((i) => (i.field === "" ? `${whole}: ${i.message}` : `field "${i.field}": ${i.message}`))
    .join("; ")
}
