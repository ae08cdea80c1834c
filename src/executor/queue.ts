// First-in first-out queue with removal by key, for tasks waiting for a free slot.

export class KeyedFifo<T> {
  // A Map iterates in insertion order, so its first key is the oldest entry.
  private readonly items = new Map<string, T>()

  get size(): number {
    return this.items.size
  }

  has(key: string): boolean {
    return this.items.has(key)
  }

  push(key: string, item: T): void {
    if (this.items.has(key)) throw new Error(`'${key}' is already queued`)
    this.items.set(key, item)
  }

  shift(): T | undefined {
    const first = this.items.keys().next()
    if (first.done) return undefined
    const item = this.items.get(first.value)
    this.items.delete(first.value)
    return item
  }

  remove(key: string): T | undefined {
    const item = this.items.get(key)
    if (item !== undefined) this.items.delete(key)
    return item
  }

  keys(): string[] {
    return [...this.items.keys()]
  }

  drain(): T[] {
    const all = [...this.items.values()]
    this.items.clear()
    return all
  }
}
