// Identifiers for new rows, below every layer that inserts them (actions, jobs, bits).

/** A v4 UUID, CC's guid format. */
export const newGuid = (): string => crypto.randomUUID()
