// timestamptz text as the millisecond ISO string an event's entry holds, without a Date: the
// leaf pass of `cf-ledger verify` reads a million of them (postgres-date's regular expressions and
// the Date were a tenth of a worker's time).
import pg from 'pg'

// What PostgreSQL prints for a timestamptz in a UTC session with the ISO DateStyle.
const UTC_TEXT = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/

const parseTimestamptz = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (text: string) => Date

/**
 * `new Date(text).toISOString()` as node-postgres would parse the text: for UTC text the first
 * three fraction digits are the milliseconds (postgres-date truncates 1000 × the fraction; the
 * same for every 1–6 digit fraction); any other text goes through the driver's own parser.
 */
export function isoMillis(text: string): string {
  const m = UTC_TEXT.exec(text)
  if (!m || m[1]! < '1000') return parseTimestamptz(text).toISOString()
  return `${m[1]}T${m[2]}.${((m[3] ?? '') + '000').slice(0, 3)}Z`
}
