import { ApiError } from './api-error.ts'

export interface RenderedError {
  readonly status: number
  readonly body: unknown
  readonly headers: Readonly<Record<string, string>>
}

function asApiError(err: unknown): ApiError | undefined {
  return err instanceof ApiError ? err : undefined
}

export function renderV3(err: unknown): RenderedError {
  const e = asApiError(err)
  if (!e) {
    return {
      status: 500,
      headers: {},
      body: { errors: [{ code: 10001, title: 'UnknownError', detail: 'An unknown error occurred.' }] },
    }
  }
  return { status: e.status, headers: e.headers, body: { errors: [{ code: e.code, title: e.title, detail: e.detail }] } }
}

export function renderV2(err: unknown): RenderedError {
  const e = asApiError(err)
  if (!e) {
    return {
      status: 500,
      headers: {},
      body: { code: 10001, description: 'An unknown error occurred.', error_code: 'UnknownError' },
    }
  }
  return { status: e.status, headers: e.headers, body: { code: e.code, description: e.detail, error_code: e.title } }
}
