import { z } from 'zod'
import { metadataSchema } from './metadata.ts'
import { ccInteger, exceedsMax, MAX_DB_BIGINT, tooLarge } from './numbers.ts'

const positiveInt = (label: string) => ccInteger(label, { min: 0, exclusiveMin: true })

const GUID = /^[A-Za-z0-9-]{1,200}$/

/** POST /v3/apps/:guid/tasks (CC TaskCreateMessage). */
export const taskCreateSchema = z
  .object({
    name: z
      .string({ error: 'Name must be a string' })
      .min(1, { message: 'Name must be between 1 and 255 characters' })
      .max(255, { message: 'Name must be between 1 and 255 characters' })
      .optional(),
    command: z
      .string({ error: 'Command must be a string' })
      .max(4096, { message: 'command must be shorter than 4097 characters' })
      .optional(),
    memory_in_mb: positiveInt('Memory in mb').optional(),
    disk_in_mb: positiveInt('Disk in mb').optional(),
    log_rate_limit_in_bytes_per_second: z
      .unknown()
      .superRefine((v, ctx) => {
        if (typeof v !== 'number' || !Number.isInteger(v))
          ctx.addIssue({ code: 'custom', message: 'Log rate limit in bytes per second must be an integer' })
        else if (v < -1) ctx.addIssue({ code: 'custom', message: 'Log rate limit in bytes per second must be greater than -2' })
        else if (exceedsMax(v, MAX_DB_BIGINT)) ctx.addIssue({ code: 'custom', message: tooLarge('Log rate limit in bytes per second', MAX_DB_BIGINT) })
      })
      .transform((v) => v as number)
      .meta({ type: 'integer', minimum: -1, maximum: Number.MAX_SAFE_INTEGER })
      .optional(),
    droplet_guid: z.string().regex(GUID, { message: 'Droplet guid must be a valid guid' }).optional(),
    template: z
      .object({ process: z.object({ guid: z.string().regex(GUID, { message: 'Template process guid must be a valid guid' }) }) })
      .optional(),
    metadata: metadataSchema.optional(),
  })
  .strict()
  .refine((b) => b.command !== undefined || b.template !== undefined, { message: 'Command No command or template provided' })
  .meta({ anyOf: [{ required: ['command'] }, { required: ['template'] }] })

export type TaskCreateMessage = z.infer<typeof taskCreateSchema>

export const taskUpdateSchema = z.object({ metadata: metadataSchema.optional() }).strict()
