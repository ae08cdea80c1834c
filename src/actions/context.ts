import type { Actor } from '../auth/principal.ts'
import type { Db } from '../store/store.ts'

/** What every use case receives: the store and who is acting. */
export interface ActionContext {
  readonly db: Db
  readonly actor: Actor
}
