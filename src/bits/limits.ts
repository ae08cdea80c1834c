import type { Config } from '../config.ts'
import type { ZipLimits } from './zip.ts'

export interface BitsLimits extends ZipLimits {
  /** Largest package zip accepted for upload, bytes. */
  readonly maxPackageBytes: number
}

type LimitConfig = Pick<Config, 'maxPackageBytes' | 'maxUnzippedBytes' | 'maxZipEntries' | 'maxCompressionRatio'>

export function bitsLimitsOf(config: LimitConfig): BitsLimits {
  return {
    maxPackageBytes: config.maxPackageBytes,
    maxUnzippedBytes: config.maxUnzippedBytes,
    maxEntries: config.maxZipEntries,
    maxCompressionRatio: config.maxCompressionRatio,
  }
}

/** The configuration defaults (src/config.ts), for callers without a Config. */
export const DEFAULT_BITS_LIMITS: BitsLimits = {
  maxPackageBytes: 256 * 1024 * 1024,
  maxUnzippedBytes: 1024 * 1024 * 1024,
  maxEntries: 100_000,
  maxCompressionRatio: 200,
}
