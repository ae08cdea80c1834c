import { ERRORS, type ErrorName } from './catalog.ts'

/** The one error type the HTTP layer renders; anything else becomes UnknownError. */
export class ApiError extends Error {
  readonly code: number
  readonly status: number

  constructor(
    readonly name_: ErrorName,
    readonly detail: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail)
    this.code = ERRORS[name_].code
    this.status = ERRORS[name_].status
  }

  get title(): string {
    return `CF-${this.name_}`
  }
}

/** Builds an ApiError, filling the catalog's message template with `args`. */
export function apiError(name: ErrorName, ...args: readonly (string | number)[]): ApiError {
  let i = 0
  const detail = ERRORS[name].template.replace(/%s/g, () => String(args[i++] ?? ''))
  return new ApiError(name, detail)
}

export const notFound = (what: string) => apiError('ResourceNotFound', `${what} not found`)
export const notAuthorized = () => apiError('NotAuthorized')
export const unprocessable = (detail: string) => apiError('UnprocessableEntity', detail)
export const badQuery = (detail: string) => apiError('BadQueryParameter', detail)
