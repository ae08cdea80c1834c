/** An OAuth/UAA-style error: `{"error": code, "error_description": description}`. */
export class UaaError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description)
  }
}

export const badCredentials = () => new UaaError(401, 'unauthorized', 'Bad credentials')
export const invalidToken = (why: string) => new UaaError(401, 'invalid_token', why)
export const insufficientScope = () =>
  new UaaError(403, 'insufficient_scope', 'Insufficient scope for this resource')
export const scimNotFound = (what: string) => new UaaError(404, 'scim_resource_not_found', what)
