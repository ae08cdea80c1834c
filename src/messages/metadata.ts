import { z } from 'zod'

const NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/
const PREFIX = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/

/**
 * validKey as a JSON Schema pattern for /openapi.json: the prefix limited to three DNS labels of up
 * to 63 characters (at most 191, within the 253 allowed), so the pattern is never wider than the check.
 */
const DNS_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
const NAME_PATTERN = '[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?'
const KEY_PATTERN = `^(?:${DNS_LABEL}(?:\\.${DNS_LABEL}){0,2}/)?${NAME_PATTERN}$`

function validKey(key: string): boolean {
  const slash = key.indexOf('/')
  if (slash < 0) return NAME.test(key)
  const prefix = key.slice(0, slash)
  return prefix.length <= 253 && PREFIX.test(prefix) && NAME.test(key.slice(slash + 1))
}

const labels = z.record(
  z.string().refine(validKey, { message: 'Metadata label key error: key is not a valid label key' }).meta({ pattern: KEY_PATTERN }),
  z
    .string()
    .refine((v) => v === '' || NAME.test(v), { message: 'Metadata label value error: value must be 63 characters or less and alphanumeric' })
    .meta({ pattern: `^(?:${NAME_PATTERN})?$` })
    .nullable(),
)
const annotations = z.record(
  z.string().refine(validKey, { message: 'Metadata annotations key error: key is not a valid annotation key' }).meta({ pattern: KEY_PATTERN }),
  z.string().max(5000, { message: 'Metadata annotations value error: value must be 5000 characters or less' }).nullable(),
)

/**
 * `metadata` in create/update bodies; a `null` value removes the key. `labels`, `annotations` or
 * `metadata` itself sent as null change nothing, as CC accepts them (go-cfclient sends them).
 */
export const metadataSchema = z
  .object({ labels: labels.nullable().optional(), annotations: annotations.nullable().optional() }, { error: 'Metadata must be an object' })
  .strict()
  .nullable()

export type MetadataPatch = z.infer<typeof metadataSchema>

export function applyMetadata(
  current: { labels: Record<string, string>; annotations: Record<string, string> },
  patch: MetadataPatch | undefined,
): { labels: Record<string, string>; annotations: Record<string, string> } {
  const merge = (base: Record<string, string>, p: Record<string, string | null> | null | undefined) => {
    const out = { ...base }
    for (const [k, v] of Object.entries(p ?? {})) {
      if (v === null) delete out[k]
      else out[k] = v
    }
    return out
  }
  return { labels: merge(current.labels, patch?.labels), annotations: merge(current.annotations, patch?.annotations) }
}

/** CC records the request as sent in `metadata.request` of update events. */
export const nameSchema = z
  .string({ error: (i) => (i.input === undefined ? "Name can't be blank" : 'Name must be a string') })
  .min(1, { message: "Name can't be blank" })
  .max(255, { message: 'Name is too long (maximum is 255 characters)' })
  .refine((s) => !/%[0-9A-Fa-f]{2}/.test(s), { message: 'Name must not contain escaped characters' })
