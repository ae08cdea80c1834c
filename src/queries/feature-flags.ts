import type { Permissions } from '../authz/permissions.ts'
import { apiError } from '../errors/api-error.ts'
import type { Db } from '../store/store.ts'

/** CC's FeatureFlag::DEFAULT_FLAGS, in CC's order (the order `cf feature-flags` lists them in). */
export const DEFAULT_FEATURE_FLAGS = {
  user_org_creation: false,
  private_domain_creation: true,
  app_bits_upload: true,
  app_scaling: true,
  route_creation: true,
  service_instance_creation: true,
  diego_docker: false,
  diego_cnb: false,
  set_roles_by_username: true,
  unset_roles_by_username: true,
  task_creation: true,
  env_var_visibility: true,
  space_scoped_private_broker_creation: true,
  space_developer_env_var_visibility: true,
  service_instance_sharing: false,
  hide_marketplace_from_unauthenticated_users: false,
  resource_matching: true,
  route_sharing: false,
  hash_based_routing: false,
} as const

export type FeatureFlagName = keyof typeof DEFAULT_FEATURE_FLAGS

/** FeatureFlag::ADMIN_SKIPPABLE and ADMIN_READ_ONLY_SKIPPABLE: flags that never stop these callers. */
const ADMIN_SKIPPABLE: readonly FeatureFlagName[] = [
  'app_bits_upload',
  'app_scaling',
  'set_roles_by_username',
  'space_developer_env_var_visibility',
  'task_creation',
  'unset_roles_by_username',
]
const ADMIN_READ_ONLY_SKIPPABLE: readonly FeatureFlagName[] = ['space_developer_env_var_visibility']

export interface FeatureFlag {
  readonly name: FeatureFlagName
  readonly enabled: boolean
  readonly errorMessage: string | null
  /** null until an admin has set it (CC renders the default flags' updated_at as null). */
  readonly updatedAt: Date | null
}

export const isFeatureFlagName = (name: string): name is FeatureFlagName => Object.hasOwn(DEFAULT_FEATURE_FLAGS, name)

/** Every flag, set or default, in CC's order. */
export async function listFeatureFlags(db: Db): Promise<FeatureFlag[]> {
  const rows = await db.selectFrom('feature_flags').selectAll().execute()
  const set = new Map(rows.map((r) => [r.name, r]))
  return (Object.keys(DEFAULT_FEATURE_FLAGS) as FeatureFlagName[]).map((name) => {
    const row = set.get(name)
    return row
      ? { name, enabled: row.enabled, errorMessage: row.error_message, updatedAt: row.updated_at }
      : { name, enabled: DEFAULT_FEATURE_FLAGS[name], errorMessage: null, updatedAt: null }
  })
}

export async function findFeatureFlag(db: Db, name: string): Promise<FeatureFlag | undefined> {
  if (!isFeatureFlagName(name)) return undefined
  const row = await db.selectFrom('feature_flags').selectAll().where('name', '=', name).executeTakeFirst()
  return row
    ? { name, enabled: row.enabled, errorMessage: row.error_message, updatedAt: row.updated_at }
    : { name, enabled: DEFAULT_FEATURE_FLAGS[name], errorMessage: null, updatedAt: null }
}

/** FeatureFlag.enabled?: admins skip some flags, admin read-only one. `perms` undefined = no caller. */
export async function featureEnabled(db: Db, name: FeatureFlagName, perms?: Permissions): Promise<boolean> {
  if (perms?.isAdmin && ADMIN_SKIPPABLE.includes(name)) return true
  if (perms?.isAdminReadOnly && ADMIN_READ_ONLY_SKIPPABLE.includes(name)) return true
  return (await findFeatureFlag(db, name))!.enabled
}

/** FeatureFlag.raise_unless_enabled!: 403 FeatureDisabled with the flag's custom message or its name. */
export async function requireFeature(db: Db, name: FeatureFlagName, perms?: Permissions): Promise<void> {
  if (await featureEnabled(db, name, perms)) return
  const flag = await findFeatureFlag(db, name)
  throw apiError('FeatureDisabled', flag?.errorMessage ?? name)
}
