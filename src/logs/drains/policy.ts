// Which addresses a drain may connect to: the operator's refusals (CF's
// `blacklisted_syslog_ranges`) and this server's own address.
import dns from 'node:dns/promises'
import net from 'node:net'
import os from 'node:os'
import type { LogConfig } from '../config.ts'

export class DrainPolicy {
  private readonly blocked = new net.BlockList()
  private selfPort: number | undefined
  private selfHosts = new Set<string>()

  constructor(private readonly cfg: LogConfig) {
    for (const range of cfg.drainBlockedRanges) {
      const [addr, bits] = range.split('/') as [string, string]
      this.blocked.addSubnet(addr, Number(bits), net.isIPv6(addr) ? 'ipv6' : 'ipv4')
    }
  }

  /** This server's listening URL (known once it listens). */
  setSelf(url: string, publicUrl?: string): void {
    const u = new URL(url)
    this.selfPort = Number(u.port || (u.protocol === 'https:' ? 443 : 80))
    this.selfHosts = new Set([u.hostname.replace(/^\[|\]$/g, ''), 'localhost', '0.0.0.0', '::', '::1'])
    if (publicUrl) this.selfHosts.add(new URL(publicUrl).hostname)
    for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) this.selfHosts.add(a.address)
  }

  /** Why a drain to `host:port` is refused (after resolving the host), or undefined. */
  async refusal(host: string, port: number): Promise<string | undefined> {
    let addresses: string[]
    try {
      addresses = net.isIP(host) ? [host] : (await dns.lookup(host, { all: true })).map((a) => a.address)
    } catch {
      return undefined // unresolvable now: the connection attempt will fail and be retried
    }
    for (const a of addresses) {
      const family = net.isIPv6(a) ? 'ipv6' : 'ipv4'
      if (this.blocked.check(a, family)) return `the address ${a} is in a blocked range`
      const self = !this.cfg.drainAllowSelf && port === this.selfPort && (this.selfHosts.has(a) || this.selfHosts.has(host) || a.startsWith('127.'))
      if (self) return 'it points at this server'
    }
    return undefined
  }
}
