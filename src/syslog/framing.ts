// RFC 5424 and RFC 6587 primitives shared by the app log drains (logs/) and the audit forwarder
// (export/): structured-data escaping and octet-counted framing.

/** PARAM-VALUE escaping (RFC 5424 §6.3.3): `"`, `\` and `]` get a backslash. */
export function sdValue(v: string): string {
  return v.replace(/["\\\]]/g, (c) => `\\${c}`)
}

/** RFC 6587 §3.4.1 octet counting: the message's length in bytes, a space, the message. */
export function octetFrame(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`
}

/** `octetFrame` as bytes, for writers that batch Buffers. */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8')
  return Buffer.concat([Buffer.from(`${body.length} `, 'latin1'), body])
}
