// Quota bodies as /openapi.json states them, beside the hand-written parsers in quota.ts (as
// manifest-document.ts is beside manifest.ts).
import { z } from 'zod'
import { MAX_DB_INT } from './numbers.ts'
import { MAX_NAME_LENGTH } from './quota.ts'
import { NOT_BLANK_PATTERN } from './text.ts'

// The parsers in quota.ts check quota bodies by hand, in CC's order and with CC's messages; these zod
// schemas are what the routes document (`documentedBody`), never validated with, and narrower than
// the parsers wherever the two differ: limits are JSON integers (the parsers also take numeric
// strings), objects name only the keys the parsers read, and a guid is at most 100 characters
// (JSON Schema counts code points, the parsers UTF-16 units, of which 200 are allowed).

const limit = (max: number) => z.number().int().min(0).max(max).nullable().optional()
const dbInt = () => limit(MAX_DB_INT)
const appsDocumented = z
  .object({
    total_memory_in_mb: dbInt(),
    per_process_memory_in_mb: dbInt(),
    total_instances: dbInt(),
    per_app_tasks: dbInt(),
    // bigint in CC; stated within 2^53, where a JSON integer is exact.
    log_rate_limit_in_bytes_per_second: limit(Number.MAX_SAFE_INTEGER),
  })
  .strict()
const servicesDocumented = z
  .object({ paid_services_allowed: z.boolean().nullable().optional(), total_service_instances: dbInt(), total_service_keys: dbInt() })
  .strict()
const routesDocumented = z.object({ total_routes: dbInt(), total_reserved_ports: dbInt() }).strict()
const domainsDocumented = z.object({ total_domains: dbInt() }).strict()

const guidDocumented = z.string().min(1).max(100)
const toManyDocumented = z.object({ data: z.array(z.object({ guid: guidDocumented }).strict()) }).strict()
/** A name `present?` (not only blanks), 1 to 250 characters: the create messages and the space update. */
const presentName = z.string().min(1).max(MAX_NAME_LENGTH).meta({ pattern: NOT_BLANK_PATTERN })
const anyName = z.string().min(1).max(MAX_NAME_LENGTH)

export const organizationQuotaUpdateDocumented = z
  .object({ name: anyName.optional(), apps: appsDocumented.optional(), services: servicesDocumented.optional(), routes: routesDocumented.optional(), domains: domainsDocumented.optional() })
  .strict()
export const organizationQuotaCreateDocumented = organizationQuotaUpdateDocumented
  .extend({ name: presentName, relationships: z.object({ organizations: toManyDocumented.optional() }).strict().optional() })
  .strict()
export const spaceQuotaUpdateDocumented = z
  .object({ name: presentName.optional(), apps: appsDocumented.optional(), services: servicesDocumented.optional(), routes: routesDocumented.optional() })
  .strict()
export const spaceQuotaCreateDocumented = spaceQuotaUpdateDocumented
  .extend({
    name: presentName,
    relationships: z
      .object({ organization: z.object({ data: z.object({ guid: guidDocumented }).strict() }).strict(), spaces: toManyDocumented.optional() })
      .strict(),
  })
  .strict()
/** ToManyRelationshipMessage: at least one `{guid}` ("Data can't be blank"). */
export const toManyRelationshipDocumented = z.object({ data: z.array(z.object({ guid: z.string() }).strict()).min(1) }).strict()
