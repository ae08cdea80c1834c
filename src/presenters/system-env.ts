// VCAP_SERVICES as CC's SystemEnvPresenter builds it. Only user-provided instances exist here,
// so every binding is under the `user-provided` label; keys in CC's order (ServiceBindingPresenter,
// then the instance's label and tags merged in after).

export interface BoundInstance {
  readonly binding_guid: string
  readonly binding_name: string | null
  readonly instance_guid: string
  readonly instance_name: string
  readonly credentials: Record<string, unknown>
  readonly syslog_drain_url: string | null
  readonly tags: readonly string[]
}

export function presentVcapServices(bindings: readonly BoundInstance[]): Record<string, unknown[]> {
  if (!bindings.length) return {}
  return {
    'user-provided': bindings.map((b) => ({
      name: b.binding_name || b.instance_name,
      instance_guid: b.instance_guid,
      instance_name: b.instance_name,
      binding_guid: b.binding_guid,
      binding_name: b.binding_name,
      credentials: b.credentials,
      syslog_drain_url: b.syslog_drain_url,
      volume_mounts: [],
      label: 'user-provided',
      tags: b.tags,
    })),
  }
}
