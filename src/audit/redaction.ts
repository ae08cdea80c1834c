// Write-time redaction of audit-event metadata, with Cloud Controller's exact placeholders
// (app/presenters/helpers/censorship.rb) and the same fields per event kind as CC's event
// repositories. The stored row already holds the placeholder; nothing is un-redacted on read.

/** Censorship::PRIVATE_DATA_HIDDEN_BRACKETS: env values, commands, credentials, parameters. */
export const PRIVATE_DATA_HIDDEN = '[PRIVATE DATA HIDDEN]'
/** Censorship::PRIVATE_DATA_HIDDEN_LIST: what list endpoints show instead of a secret (droplets' process_types). */
export const PRIVATE_DATA_HIDDEN_IN_LISTS = '[PRIVATE DATA HIDDEN IN LISTS]'
/** Censorship::REDACTED_BRACKETS: UPSI credentials, v2 broker auth_password, dashboard secrets. */
export const REDACTED = '[REDACTED]'
/** Censorship::REDACTED_CREDENTIAL: the user and password of a URL, a docker password. */
export const REDACTED_CREDENTIAL = '***'

type Json = Record<string, unknown>

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Replaces the listed top-level keys that are present (even when null) with `placeholder`. */
export function censorKeys(request: Json, keys: readonly string[], placeholder: string = PRIVATE_DATA_HIDDEN): Json {
  const out: Json = { ...request }
  for (const k of keys) if (Object.hasOwn(out, k)) out[k] = placeholder
  return out
}

/**
 * UrlSecretObfuscator: a URL with a user part gets `***` for both user and password
 * (`https://***:***@host/path`); anything else, including strings that are not URLs, is returned
 * unchanged. Non-strings pass through.
 */
export function obfuscateUrlCredentials<T>(url: T): T {
  if (typeof url !== 'string') return url
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#@]*)@(.*)$/s.exec(url)
  if (!m) return url
  return `${m[1]}${REDACTED_CREDENTIAL}:${REDACTED_CREDENTIAL}@${m[3]}` as T
}

/** AppEventRepository::CENSORED_FIELDS. */
export const APP_CENSORED_FIELDS = [
  'encrypted_environment_json',
  'command',
  'environment_json',
  'environment_variables',
  'docker_credentials',
] as const

/**
 * The `request` of audit.app.create / audit.app.update (v2 and v3): env, command and docker
 * credentials hidden; the buildpack URL (v2 `buildpack`, v3 `lifecycle.data.buildpack`) has its
 * credentials obfuscated. The v3 `lifecycle.data.buildpacks` array is left as CC leaves it.
 */
export function redactAppRequest(request: Json): Json {
  const out = censorKeys(request, APP_CENSORED_FIELDS)
  if (Object.hasOwn(out, 'buildpack')) out.buildpack = obfuscateUrlCredentials(out.buildpack)
  const lifecycle = out.lifecycle
  if (isObject(lifecycle) && isObject(lifecycle.data) && Object.hasOwn(lifecycle.data, 'buildpack')) {
    out.lifecycle = { ...lifecycle, data: { ...lifecycle.data, buildpack: obfuscateUrlCredentials(lifecycle.data.buildpack) } }
  }
  return out
}

/**
 * `PATCH /v3/apps/:guid/environment_variables`: CC renames the key `var` to
 * `environment_variables` and then censors it like any app update.
 */
export function redactAppEnvironmentVariablesRequest(request: Json): Json {
  const { var: vars, ...rest } = request
  return redactAppRequest(vars === undefined ? rest : { ...rest, environment_variables: vars })
}

/** TaskEventRepository: the command is always hidden; only name and the resolved memory are kept. */
export function taskEventMetadata(task: { guid: string; name: string; memory_in_mb: number }): Json {
  return { task_guid: task.guid, request: { name: task.name, memory_in_mb: task.memory_in_mb, command: PRIVATE_DATA_HIDDEN } }
}

/** audit.app.process.update: `request.command` hidden. */
export function redactProcessUpdateRequest(request: Json): Json {
  return censorKeys(request, ['command'])
}

/** Managed service instance events: a top-level `parameters` hidden. */
export function redactServiceInstanceRequest(request: Json): Json {
  return censorKeys(request, ['parameters'])
}

/** User-provided service instance events: a top-level `credentials` redacted (`[REDACTED]`). */
export function redactUserProvidedServiceInstanceRequest(request: Json): Json {
  return censorKeys(request, ['credentials'], REDACTED)
}

/**
 * The `request` of a user-provided service instance event: the message as sent, credentials
 * `[REDACTED]`, the drain and route service URLs' credentials `***`.
 */
export function redactUserProvidedServiceInstanceEvent(request: Json): Json {
  const out = redactUserProvidedServiceInstanceRequest(redactServiceInstanceMessage(request))
  for (const k of ['syslog_drain_url', 'route_service_url']) if (typeof out[k] === 'string') out[k] = obfuscateUrlCredentials(out[k])
  return out
}

/**
 * v3 service instance messages' audit hash: `credentials` (UPSI) and `parameters` (managed)
 * become `[PRIVATE DATA HIDDEN]` before the repositories see them.
 */
export function redactServiceInstanceMessage(request: Json): Json {
  return censorKeys(request, ['credentials', 'parameters'])
}

/** Service binding / key / route binding create, update, start_create: a top-level `data` hidden. */
export function redactBindingRequest(request: Json): Json {
  return censorKeys(request, ['data'])
}

/** v2 service broker events: `auth_password` redacted. */
export function redactV2BrokerRequest(request: Json): Json {
  return censorKeys(request, ['auth_password'], REDACTED)
}

/** v3 service broker events: `authentication.credentials.password` hidden. */
export function redactV3BrokerRequest(request: Json): Json {
  const auth = request.authentication
  if (!isObject(auth) || !isObject(auth.credentials) || !Object.hasOwn(auth.credentials, 'password')) return { ...request }
  return { ...request, authentication: { ...auth, credentials: { ...auth.credentials, password: PRIVATE_DATA_HIDDEN } } }
}

/** audit.service_dashboard_client.create/delete: the secret redacted. */
export function dashboardClientMetadata(client: { secret?: unknown; redirect_uri?: unknown }): Json {
  return { secret: REDACTED, redirect_uri: client.redirect_uri }
}

/**
 * audit.environment_variable_group.update (ours): the values are never recorded, only which keys
 * the request set.
 */
export function environmentVariableGroupEventMetadata(patch: Json): Json {
  return { request: { var: PRIVATE_DATA_HIDDEN }, keys: Object.keys(patch).sort() }
}

/** audit.app.package.create for docker packages: `data.password` becomes `***`. */
export function redactPackageRequest(request: Json): Json {
  const data = request.data
  if (!isObject(data) || !Object.hasOwn(data, 'password')) return { ...request }
  return { ...request, data: { ...data, password: REDACTED_CREDENTIAL } }
}

/**
 * AppManifestMessage#audit_hash for audit.app.apply_manifest: per application, `env` and
 * `cnb-credentials` hidden when set (Ruby-truthy: an explicit null or false stays). Commands,
 * routes, services and docker usernames stay, as in CC.
 */
export function redactManifestApplication(app: Json): Json {
  const out: Json = { ...app }
  for (const k of ['env', 'cnb-credentials']) if (out[k] !== undefined && out[k] !== null && out[k] !== false) out[k] = PRIVATE_DATA_HIDDEN
  return out
}

/** A whole manifest (`{applications: [...]}`), each application redacted. */
export function redactManifest(manifest: Json): Json {
  const apps = manifest.applications
  if (!Array.isArray(apps)) return { ...manifest }
  return { ...manifest, applications: apps.map((a) => (isObject(a) ? redactManifestApplication(a) : a)) }
}
