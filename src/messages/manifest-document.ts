import { z } from 'zod'
import { MAX_DB_INT } from './numbers.ts'

// The manifest as /openapi.json states it. parseManifest (manifest.ts) reads YAML by hand, as CC
// does, and stays the check; this schema is a narrower subset of what it accepts (a few common
// attributes, nothing it refuses), so a document-generated manifest is one the server takes.

const megabytes = z.string().regex(/^[1-9][0-9]{0,5}[MG]$/)

const application = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/),
    instances: z.int().min(0).max(MAX_DB_INT).optional(),
    memory: megabytes.optional(),
    disk_quota: megabytes.optional(),
    command: z.string().optional(),
    stack: z.string().optional(),
  })
  .strict()

export const manifestDocument = z
  .object({ version: z.literal(1).optional(), applications: z.array(application).min(1) })
  .strict()
