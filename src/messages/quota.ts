// Quota request bodies, validated the way CC's messages do (organization_quotas_update_message.rb,
// space_quota_update_message.rb, quotas_{apps,services,routes}_message.rb, the create messages
// and ToManyRelationshipMessage). CC collects ActiveModel errors in validation order and joins
// their full messages with ", "; so do these. Errors are returned, not thrown, so that a route
// can validate at the point in CC's check order where CC does (some check 403 first).
import { exceedsMax, MAX_DB_INT } from './numbers.ts'

const MAX_DB_BIGINT = 9223372036854775807
export const MAX_NAME_LENGTH = 250

type Body = Record<string, unknown>

/** `null` means unlimited; an absent key means "not requested". */
export interface AppsLimits {
  total_memory_in_mb?: number | null
  per_process_memory_in_mb?: number | null
  total_instances?: number | null
  per_app_tasks?: number | null
  log_rate_limit_in_bytes_per_second?: number | null
}
export interface ServicesLimits {
  paid_services_allowed?: boolean | null
  total_service_instances?: number | null
  total_service_keys?: number | null
}
export interface RoutesLimits {
  total_routes?: number | null
  total_reserved_ports?: number | null
}
export interface DomainsLimits {
  total_domains?: number | null
}

export interface QuotaLimitsMessage {
  readonly name?: string
  readonly apps?: AppsLimits
  readonly services?: ServicesLimits
  readonly routes?: RoutesLimits
  readonly domains?: DomainsLimits
}

export interface OrganizationQuotaCreateMessage extends QuotaLimitsMessage {
  readonly name: string
  readonly organizationGuids: string[]
}

export interface SpaceQuotaCreateMessage extends QuotaLimitsMessage {
  readonly name: string
  readonly organizationGuid: string
  readonly spaceGuids: string[]
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] }

const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v)
const has = (o: Body, k: string) => Object.prototype.hasOwnProperty.call(o, k)

/** ActiveModel's humanize: `total_memory_in_mb` → `Total memory in mb`. */
function humanize(attr: string): string {
  const s = attr.replace(/_/g, ' ')
  return s[0]!.toUpperCase() + s.slice(1)
}

/** Ruby's Array#inspect of strings, as CC interpolates guid lists into messages. */
export function rubyList(xs: readonly string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`
}

function unknownKeys(o: Body, allowed: readonly string[]): string[] {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k))
  return extra.length ? [`Unknown field(s): '${extra.join("', '")}'`] : []
}

/**
 * ActiveModel numericality with only_integer, >= 0 and <= max; nil allowed. Numeric strings pass
 * as they do in Rails. Returns the error or the number.
 */
function integerLimit(attr: string, v: unknown, max: number): { error?: string; value?: number | null } {
  if (v === null) return { value: null }
  let n: number
  let integral: boolean
  if (typeof v === 'number') {
    n = v
    integral = Number.isInteger(v)
  } else if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) {
    n = Number(v)
    integral = /^[+-]?\d+$/.test(v.trim())
  } else {
    return { error: `${humanize(attr)} is not a number` }
  }
  if (!Number.isFinite(n)) return { error: `${humanize(attr)} is not a number` }
  if (!integral) return { error: `${humanize(attr)} must be an integer` }
  if (n < 0) return { error: `${humanize(attr)} must be greater than or equal to 0` }
  if (exceedsMax(n, max === MAX_DB_BIGINT ? 2n ** 63n - 1n : max)) return { error: `${humanize(attr)} must be less than or equal to ${max === MAX_DB_BIGINT ? '9223372036854775807' : max}` }
  return { value: n }
}

interface LimitGroup<T> {
  readonly key: 'apps' | 'services' | 'routes' | 'domains'
  readonly attrs: readonly string[]
  check(attr: string, v: unknown): { error?: string; value?: unknown }
  readonly _type?: T
}

const intCheck = (max: number) => (attr: string, v: unknown) => integerLimit(attr, v, max)

const APPS: LimitGroup<AppsLimits> = {
  key: 'apps',
  attrs: ['total_memory_in_mb', 'per_process_memory_in_mb', 'total_instances', 'per_app_tasks', 'log_rate_limit_in_bytes_per_second'],
  check: (attr, v) => integerLimit(attr, v, attr === 'log_rate_limit_in_bytes_per_second' ? MAX_DB_BIGINT : MAX_DB_INT),
}
const SERVICES: LimitGroup<ServicesLimits> = {
  key: 'services',
  // CC validates total_service_keys before total_service_instances, then paid_services_allowed.
  attrs: ['total_service_keys', 'total_service_instances', 'paid_services_allowed'],
  check(attr, v) {
    if (attr !== 'paid_services_allowed') return integerLimit(attr, v, MAX_DB_INT)
    if (v === null || typeof v === 'boolean') return { value: v }
    return { error: 'Paid services allowed must be a boolean' }
  },
}
const ROUTES: LimitGroup<RoutesLimits> = { key: 'routes', attrs: ['total_routes', 'total_reserved_ports'], check: intCheck(MAX_DB_INT) }
// DomainsLimitsMessage has no upper bound in CC; the column is an int.
const DOMAINS: LimitGroup<DomainsLimits> = { key: 'domains', attrs: ['total_domains'], check: intCheck(MAX_DB_INT) }

/** One limits object (`apps`, …): "Apps must be an object", "Apps Unknown field(s): 'x'", "Apps Total … ". */
function parseGroup<T>(group: LimitGroup<T>, v: unknown, errors: string[]): T | undefined {
  const label = humanize(group.key)
  if (!isObject(v)) {
    errors.push(`${label} must be an object`)
    return undefined
  }
  const out: Record<string, unknown> = {}
  for (const m of unknownKeys(v, group.attrs)) errors.push(`${label} ${m}`)
  for (const attr of group.attrs) {
    if (!has(v, attr)) continue
    const r = group.check(attr, v[attr])
    if (r.error) errors.push(`${label} ${r.error}`)
    else out[attr] = r.value
  }
  return out as T
}

/** Rails' `blank?`: nil, false, empty or whitespace-only strings, empty arrays and hashes. */
function isBlank(v: unknown): boolean {
  if (v === undefined || v === null || v === false) return true
  if (typeof v === 'string') return v.trim() === ''
  if (Array.isArray(v)) return v.length === 0
  if (isObject(v)) return Object.keys(v).length === 0
  return false
}

/**
 * The update messages' `validates :name, string: true, [presence: true,] length: {1..250}, if:
 * requested`. Returns the name when it is a string.
 */
function parseName(body: Body, errors: string[], presence: boolean): string | undefined {
  if (!has(body, 'name')) return undefined
  const v = body.name
  if (typeof v !== 'string') errors.push('Name must be a string')
  if (presence && isBlank(v)) errors.push("Name can't be blank")
  // LengthValidator measures `to_s` of a non-string.
  const length = typeof v === 'string' ? [...v].length : v === null || v === undefined ? 0 : String(v).length
  if (length < 1) errors.push('Name is too short (minimum is 1 character)')
  if (length > MAX_NAME_LENGTH) errors.push(`Name is too long (maximum is ${MAX_NAME_LENGTH} characters)`)
  return typeof v === 'string' ? v : undefined
}

/** The create messages' own `validates :name, presence: true`, run after the inherited checks. */
function requireName(body: Body, errors: string[]): void {
  // The space messages already said it; ActiveModel would say it twice.
  if (isBlank(body.name) && !errors.includes("Name can't be blank")) errors.push("Name can't be blank")
}

function parseLimits(body: Body, groups: readonly LimitGroup<unknown>[], errors: string[]): Omit<QuotaLimitsMessage, 'name'> {
  const out: Record<string, unknown> = {}
  for (const g of groups) {
    if (!has(body, g.key)) continue
    const parsed = parseGroup(g, body[g.key], errors)
    if (parsed) out[g.key] = parsed
  }
  return out
}

const GUID_TEXT = (attr: string, v: unknown): string | undefined => {
  if (typeof v !== 'string') return `${humanize(attr)} must be a string`
  if (v.length < 1 || v.length > 200) return `${humanize(attr)} must be between 1 and 200 characters`
  return undefined
}

/** CC's ToManyRelationshipValidator on `relationships.<attr>`: `{data: [{guid}, …]}`. */
function toMany(attr: string, v: unknown, errors: string[]): string[] {
  const shaped =
    isObject(v) &&
    Array.isArray(v.data) &&
    v.data.every((x) => isObject(x) && Object.keys(x).length === 1 && has(x, 'guid'))
  if (!shaped) {
    errors.push(`Relationships ${humanize(attr)} must be structured like this: "${attr}: {"data": [{"guid": "valid-guid"},{"guid": "valid-guid"}]}"`)
    return []
  }
  const guids = (v.data as Body[]).map((x) => x.guid)
  for (const g of guids) {
    const e = GUID_TEXT(`${attr.replace(/s$/, '')}_guids`, g)
    if (e) errors.push(`Relationships ${e}`)
  }
  return guids.filter((g): g is string => typeof g === 'string')
}

/** CC's ToOneRelationshipValidator on `relationships.<attr>`: `{data: {guid}}` or `{data: null}`. */
function toOne(attr: string, v: unknown, errors: string[]): string | undefined {
  const shaped =
    isObject(v) &&
    Object.keys(v).length === 1 &&
    has(v, 'data') &&
    (v.data === null || (isObject(v.data) && Object.keys(v.data).length === 1 && has(v.data, 'guid')))
  if (!shaped) {
    errors.push(`Relationships ${humanize(attr)} must be structured like this: "${attr}: {"data": {"guid": "valid-guid"}}"`)
    return undefined
  }
  if (v.data === null) return ''
  const guid = (v.data as Body).guid
  const e = GUID_TEXT(`${attr}_guid`, guid)
  if (e) errors.push(`Relationships ${e}`)
  return typeof guid === 'string' ? guid : undefined
}

const ORG_GROUPS = [APPS, SERVICES, ROUTES, DOMAINS] as readonly LimitGroup<unknown>[]
const SPACE_GROUPS = [APPS, SERVICES, ROUTES] as readonly LimitGroup<unknown>[]

function result<T>(errors: string[], value: T): Parsed<T> {
  return errors.length ? { ok: false, errors } : { ok: true, value }
}

/** OrganizationQuotasUpdateMessage: name (string, 1..250) if given, apps, services, routes, domains. */
export function parseOrganizationQuotaUpdate(body: Body): Parsed<QuotaLimitsMessage> {
  const errors = unknownKeys(body, ['name', 'apps', 'services', 'routes', 'domains'])
  const name = parseName(body, errors, false)
  const limits = parseLimits(body, ORG_GROUPS, errors)
  return result(errors, { ...(name !== undefined ? { name } : {}), ...limits })
}

/** OrganizationQuotasCreateMessage: the update message plus `relationships.organizations` and a required name. */
export function parseOrganizationQuotaCreate(body: Body): Parsed<OrganizationQuotaCreateMessage> {
  const errors = unknownKeys(body, ['name', 'apps', 'services', 'routes', 'domains', 'relationships'])
  const name = parseName(body, errors, false)
  const limits = parseLimits(body, ORG_GROUPS, errors)
  let organizationGuids: string[] = []
  if (has(body, 'relationships')) {
    const rel = body.relationships
    if (!isObject(rel)) errors.push("Relationships 'relationships' is not a hash")
    else if (rel.organizations !== undefined && rel.organizations !== null) organizationGuids = toMany('organizations', rel.organizations, errors)
  }
  requireName(body, errors)
  return result(errors, { ...limits, name: name ?? '', organizationGuids: [...new Set(organizationGuids)] })
}

/** SpaceQuotaUpdateMessage: name (string, present, 1..250) if given, apps, services, routes. */
export function parseSpaceQuotaUpdate(body: Body): Parsed<QuotaLimitsMessage> {
  const errors = unknownKeys(body, ['name', 'apps', 'services', 'routes'])
  const name = parseName(body, errors, true)
  const limits = parseLimits(body, SPACE_GROUPS, errors)
  return result(errors, { ...(name !== undefined ? { name } : {}), ...limits })
}

/** SpaceQuotasCreateMessage: the update message plus the required organization and optional spaces. */
export function parseSpaceQuotaCreate(body: Body): Parsed<SpaceQuotaCreateMessage> {
  const errors = unknownKeys(body, ['name', 'apps', 'services', 'routes', 'relationships'])
  const name = parseName(body, errors, true)
  const limits = parseLimits(body, SPACE_GROUPS, errors)
  let organizationGuid: string | undefined
  let spaceGuids: string[] = []
  const rel = body.relationships
  if (!isObject(rel)) errors.push("Relationships 'relationships' is not a hash")
  else {
    organizationGuid = toOne('organization', rel.organization, errors)
    if (rel.spaces !== undefined && rel.spaces !== null) spaceGuids = toMany('spaces', rel.spaces, errors)
  }
  requireName(body, errors)
  return result(errors, { ...limits, name: name ?? '', organizationGuid: organizationGuid ?? '', spaceGuids: [...new Set(spaceGuids)] })
}

/** ToManyRelationshipMessage (apply bodies): `{"data": [{"guid": "…"}, …]}`. */
export function parseToManyRelationship(body: Body): Parsed<string[]> {
  const errors = unknownKeys(body, ['data'])
  const data = body.data
  if (isBlank(data)) errors.push("Data can't be blank")
  if (!Array.isArray(data)) errors.push('Data must be an array')
  else {
    data.forEach((x, i) => {
      if (!isObject(x) || typeof x.guid !== 'string') errors.push(`Invalid data type: Data[${i}] guid should be a string.`)
    })
  }
  const guids = Array.isArray(data) ? data.filter(isObject).map((x) => x.guid).filter((g): g is string => typeof g === 'string') : []
  return result(errors, [...new Set(guids)])
}
