// Cloud Controller's error catalog (errors/v2.yml), the subset this server raises. The CF CLI
// and client libraries branch on these codes and names, so they are copied exactly.
export const ERRORS = {
  MessageParseError: { code: 1001, status: 400, template: 'Request invalid due to parse error: %s' },
  InvalidRelation: { code: 1002, status: 400, template: '%s' },
  InvalidAuthToken: { code: 1000, status: 401, template: 'Invalid Auth Token' },
  NotFound: { code: 10000, status: 404, template: 'Unknown request' },
  ServerError: { code: 10001, status: 500, template: 'Server error' },
  NotAuthenticated: { code: 10002, status: 401, template: 'Authentication error' },
  NotAuthorized: { code: 10003, status: 403, template: 'You are not authorized to perform the requested action' },
  InvalidRequest: { code: 10004, status: 400, template: 'The request is invalid' },
  BadQueryParameter: { code: 10005, status: 400, template: 'The query parameter is invalid: %s' },
  InsufficientScope: {
    code: 10007,
    status: 403,
    template: 'Your token lacks the necessary scopes to access this resource.',
  },
  UnprocessableEntity: { code: 10008, status: 422, template: '%s' },
  ResourceNotFound: { code: 10010, status: 404, template: '%s' },
  // CC answers this with 500; bad input never gets a 500 here (docs/audit-events.md).
  OrderByParameterInvalid: { code: 10012, status: 400, template: 'Cannot order by: %s' },
  RateLimitExceeded: { code: 10013, status: 429, template: 'Rate Limit Exceeded' },
  ServiceUnavailable: { code: 10015, status: 503, template: '%s' },
  UniquenessError: { code: 10016, status: 422, template: '%s' },
  FeatureDisabled: { code: 330002, status: 403, template: 'Feature Disabled: %s' },
  OrgSuspended: { code: 10017, status: 403, template: 'The organization is suspended' },
  EventNotFound: { code: 230002, status: 404, template: 'Event could not be found: %s' },
  OrganizationNotFound: { code: 30003, status: 404, template: 'The organization could not be found: %s' },
  SpaceNotFound: { code: 40004, status: 404, template: 'The app space could not be found: %s' },
  AppNotFound: { code: 100004, status: 404, template: 'The app could not be found: %s' },
  UserNotFound: { code: 20003, status: 404, template: 'The user could not be found: %s' },
  ServiceInstanceNotFound: { code: 60004, status: 404, template: 'The service instance could not be found: %s' },
  StackNotFound: { code: 250003, status: 404, template: 'The stack could not be found: %s' },
  TaskWorkersUnavailable: { code: 170020, status: 503, template: 'Task workers are unavailable: %s' },
  ProcessNotFound: { code: 350003, status: 404, template: 'The process could not be found: %s' },
  BadRequest: { code: 1004, status: 400, template: 'Bad request: %s' },
  AppPackageInvalid: { code: 150001, status: 400, template: 'The app package is invalid: %s' },
  PackageBitsAlreadyUploaded: {
    code: 150004,
    status: 400,
    template: 'Bits may be uploaded only once. Create a new package to upload different bits.',
  },
  AppBitsUploadInvalid: { code: 160001, status: 400, template: 'The app upload is invalid: %s' },
} as const

export type ErrorName = keyof typeof ERRORS
