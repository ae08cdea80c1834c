import type { JobHandler } from '../jobs/runner.ts'
import { deleteOrganizationQuota } from './quota-organization.ts'
import { deleteSpaceQuota } from './quota-space.ts'

/** The asynchronous halves of DELETE /v3/organization_quotas/:guid and /v3/space_quotas/:guid. */
export function quotaJobHandlers(): Record<string, JobHandler> {
  return {
    'organization_quota.delete': (tx, job) => deleteOrganizationQuota(tx, job.resource_guid, job.actor),
    'space_quota.delete': (tx, job) => deleteSpaceQuota(tx, job.resource_guid, job.actor),
  }
}
