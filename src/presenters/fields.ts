// Field formats every presenter shares (v3 and v2).

/** RFC 3339 to the second, as CC renders timestamps. */
export function timestamp(d: Date | string): string {
  return new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function metadataOf(row: { labels: Record<string, string>; annotations: Record<string, string> }) {
  return { labels: row.labels ?? {}, annotations: row.annotations ?? {} }
}
