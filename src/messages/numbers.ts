import { z } from 'zod'

// Integer ranges for everything a client sends: CC's own (MAX_DB_INT / MAX_DB_BIGINT in its
// BaseMessage), which are also the sizes of the columns the values go into.
export const MAX_DB_INT = 2147483647
export const MAX_DB_BIGINT = 9223372036854775807n

/** A double at or past 2^63 no longer fits bigint (9223372036854775807 itself rounds up to 2^63). */
export function exceedsMax(n: number, max: number | bigint): boolean {
  return typeof max === 'bigint' ? n >= 2 ** 63 : n > max
}

/** ActiveModel's message for `less_than_or_equal_to`, prefixed with the attribute's label. */
export const tooLarge = (label: string, max: number | bigint) => `${label} must be less than or equal to ${max}`

/**
 * A JSON integer in CC's range with ActiveModel's numericality messages: `Memory in mb is not a
 * number`, `… must be an integer`, `… must be greater than 0`, `… must be less than or equal to 2147483647`.
 */
export function ccInteger(label: string, range: { min: number; exclusiveMin?: boolean; max?: number | bigint }) {
  const max = range.max ?? MAX_DB_INT
  return z
    .unknown()
    .superRefine((v, ctx) => {
      const issue = (message: string) => ctx.addIssue({ code: 'custom', message })
      if (typeof v !== 'number' || Number.isNaN(v)) issue(`${label} is not a number`)
      else if (!Number.isInteger(v)) issue(`${label} must be an integer`)
      else if (range.exclusiveMin && v <= range.min) issue(`${label} must be greater than ${range.min}`)
      else if (!range.exclusiveMin && v < range.min) issue(`${label} must be greater than or equal to ${range.min}`)
      else if (exceedsMax(v, max)) issue(tooLarge(label, max))
    })
    .transform((v) => v as number)
    .meta({
      type: 'integer',
      [range.exclusiveMin ? 'exclusiveMinimum' : 'minimum']: range.min,
      // A bigint maximum (2^63 - 1) is stated as 2^53: larger integers round when parsed (openapi.ts).
      maximum: typeof max === 'bigint' ? Number.MAX_SAFE_INTEGER : max,
    })
}

/** A digits-only query value that fits an int column (sequence ids, page numbers). */
export const fitsInt = (s: string) => /^\d{1,10}$/.test(s) && Number(s) <= MAX_DB_INT
