// The drains of every app, loaded from the service bindings with a drain URL and reloaded when
// they change; unchanged drains keep their buffers.
import type { Logger } from 'pino'
import type { Db } from '../../store/store.ts'
import type { LogConfig } from '../config.ts'
import type { Envelope } from '../envelope.ts'
import { Drain, type DrainBinding, type DrainNotify, type DrainStats, drainKey } from './drain.ts'
import type { DrainPolicy } from './policy.ts'
import { parseDrainUrl } from './url.ts'

export class DrainManager {
  private byApp = new Map<string, Drain[]>()
  private byBinding = new Map<string, Drain>()
  private reloading: Promise<void> = Promise.resolve()
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly db: Db,
    private readonly cfg: LogConfig,
    readonly policy: DrainPolicy,
    private readonly notify: DrainNotify,
    private readonly logger: Logger,
  ) {}

  /**
   * Re-reads the bindings with drain URLs; unchanged drains keep their buffers. Called after every
   * binding change here, and every 30 s for changes made elsewhere (an app or space deleted).
   */
  reload(): Promise<void> {
    if (!this.timer) {
      this.timer = setInterval(() => void this.reload(), 30_000)
      this.timer.unref()
    }
    this.reloading = this.reloading.then(() => this.doReload()).catch((err) => this.logger.error({ err }, 'could not load syslog drains'))
    return this.reloading
  }

  private async doReload(): Promise<void> {
    const rows = await this.db
      .selectFrom('service_bindings as b')
      .innerJoin('service_instances as si', 'si.guid', 'b.service_instance_guid')
      .innerJoin('apps as a', 'a.guid', 'b.app_guid')
      .innerJoin('spaces as s', 's.guid', 'a.space_guid')
      .innerJoin('organizations as o', 'o.guid', 's.organization_guid')
      .select(['b.guid as binding_guid', 'si.guid as si_guid', 'si.syslog_drain_url as url', 'si.credentials', 'a.guid as app_guid', 'a.name as app_name', 's.guid as space_guid', 's.name as space_name', 'o.guid as org_guid', 'o.name as org_name'])
      .where('si.syslog_drain_url', 'is not', null)
      .where('si.syslog_drain_url', '!=', '')
      .execute()
    const next = new Map<string, Drain>()
    for (const r of rows) {
      if (!parseDrainUrl(r.url!)) continue
      const binding: DrainBinding = {
        bindingGuid: r.binding_guid,
        serviceInstanceGuid: r.si_guid,
        url: r.url!,
        credentials: r.credentials ?? {},
        app: { guid: r.app_guid, name: r.app_name, spaceGuid: r.space_guid, spaceName: r.space_name, orgGuid: r.org_guid, orgName: r.org_name },
      }
      const existing = this.byBinding.get(r.binding_guid)
      if (existing && existing.key === drainKey(binding)) next.set(r.binding_guid, existing)
      else next.set(r.binding_guid, new Drain(binding, this.cfg, this.policy, this.notify, this.logger))
    }
    for (const [guid, d] of this.byBinding) if (next.get(guid) !== d) void d.close()
    this.byBinding = next
    const byApp = new Map<string, Drain[]>()
    for (const d of next.values()) {
      d.start()
      const list = byApp.get(d.binding.app.guid) ?? []
      list.push(d)
      byApp.set(d.binding.app.guid, list)
    }
    this.byApp = byApp
  }

  hasDrains(appGuid: string): boolean {
    return this.byApp.has(appGuid)
  }

  publish(e: Envelope, except?: Drain): void {
    const ds = this.byApp.get(e.sourceId)
    if (!ds) return
    for (const d of ds) if (d !== except) d.enqueue(e)
  }

  stats(): DrainStats[] {
    return [...this.byBinding.values()].map((d) => d.stats())
  }

  async close(graceMs: number): Promise<void> {
    clearInterval(this.timer)
    await Promise.all([...this.byBinding.values()].map((d) => d.close(graceMs)))
    this.byBinding.clear()
    this.byApp.clear()
  }
}
