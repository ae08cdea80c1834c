import type { FeatureFlag } from '../../queries/feature-flags.ts'
import { timestamp } from '../fields.ts'

export function presentFeatureFlag(flag: FeatureFlag, baseUrl: string) {
  return {
    name: flag.name,
    enabled: flag.enabled,
    updated_at: flag.updatedAt ? timestamp(flag.updatedAt) : null,
    custom_error_message: flag.errorMessage,
    links: { self: { href: `${baseUrl}/v3/feature_flags/${flag.name}` } },
  }
}
