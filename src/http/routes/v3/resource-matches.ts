import { z } from 'zod'
import { ok, type Route, route } from '../../route.ts'

const resource = z.object({
  checksum: z.object({ value: z.string().regex(/^[0-9a-f]{40}$/i, { error: 'Checksum value must be a SHA-1 hex digest' }) }),
  size_in_bytes: z.number().int().min(0, { error: 'Size in bytes must be a non-negative integer' }),
  path: z.string().optional(),
  mode: z.string().optional(),
})
const matchSchema = z
  .object({
    resources: z
      .array(resource, { error: 'Resources must be an array' })
      .min(1, { error: 'Resources must have at least 1 resource' })
      .max(5000, { error: 'Resources array is too long (maximum is 5000 resources)' }),
  })
  .strict()

/**
 * `POST /v3/resource_matches`: CC answers with the files it already holds so the client may skip
 * uploading them. cf-ledger keeps no resource cache, so nothing ever matches and every file is
 * uploaded in the package zip.
 */
export function resourceMatchRoutes(): Route[] {
  return [
    route({
      method: 'POST',
      url: '/v3/resource_matches',
      summary: 'Match resources already uploaded (always none: every file is uploaded)',
      tag: 'Packages',
      auth: 'write',
      body: matchSchema,
      async handler() {
        return ok({ resources: [] }, 201)
      },
    }),
  ]
}
