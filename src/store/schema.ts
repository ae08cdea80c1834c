// The database's table types for Kysely, one file per area under schema/; this file assembles
// them into Database and names the row types the code passes around.
import type { Insertable, Selectable } from 'kysely'
import type { UaaUsersTable, OauthClientsTable, RefreshTokensTable, SigningKeysTable, UsersTable } from './schema/identity.ts'
import type { OrganizationsTable, SpacesTable, RolesTable, OrganizationQuotasTable, SpaceQuotasTable } from './schema/orgs.ts'
import type { AppsTable, ProcessesTable, BlobsTable, BlobChunksTable, PackagesTable, DropletsTable, BuildsTable, TasksTable, TaskOutputsTable, TaskOutputChunksTable, ServiceInstancesTable, ServiceBindingsTable, FeatureFlagsTable, EnvironmentVariableGroupsTable } from './schema/apps.ts'
import type { EventsTable, LedgerHeadTable, LedgerKeysTable, ExportCursorsTable, AppUsageEventsTable } from './schema/audit.ts'
import type { JobsTable, LeasesTable, ClusterKeysTable, SchemaMigrationsTable } from './schema/runtime.ts'
import type { CollectedEventsTable } from './schema/collect.ts'

export type * from './schema/identity.ts'
export type * from './schema/orgs.ts'
export type * from './schema/apps.ts'
export type * from './schema/audit.ts'
export type * from './schema/runtime.ts'
export type * from './schema/collect.ts'

export interface Database {
  uaa_users: UaaUsersTable
  oauth_clients: OauthClientsTable
  refresh_tokens: RefreshTokensTable
  signing_keys: SigningKeysTable
  users: UsersTable
  organizations: OrganizationsTable
  spaces: SpacesTable
  roles: RolesTable
  jobs: JobsTable
  leases: LeasesTable
  cluster_keys: ClusterKeysTable
  events: EventsTable
  ledger_head: LedgerHeadTable
  apps: AppsTable
  processes: ProcessesTable
  blobs: BlobsTable
  blob_chunks: BlobChunksTable
  packages: PackagesTable
  droplets: DropletsTable
  builds: BuildsTable
  tasks: TasksTable
  collected_events: CollectedEventsTable
  organization_quotas: OrganizationQuotasTable
  space_quotas: SpaceQuotasTable
  ledger_keys: LedgerKeysTable
  schema_migrations: SchemaMigrationsTable
  task_outputs: TaskOutputsTable
  task_output_chunks: TaskOutputChunksTable
  service_instances: ServiceInstancesTable
  service_bindings: ServiceBindingsTable
  export_cursors: ExportCursorsTable
  feature_flags: FeatureFlagsTable
  environment_variable_groups: EnvironmentVariableGroupsTable
  app_usage_events: AppUsageEventsTable
}

export type OrganizationRow = Selectable<OrganizationsTable>
export type SpaceRow = Selectable<SpacesTable>
export type RoleRow = Selectable<RolesTable>
export type UaaUserRow = Selectable<UaaUsersTable>
export type JobRow = Selectable<JobsTable>
export type EventRow = Selectable<EventsTable>
export type AppRow = Selectable<AppsTable>
export type ProcessRow = Selectable<ProcessesTable>
export type PackageRow = Selectable<PackagesTable>
export type DropletRow = Selectable<DropletsTable>
export type BuildRow = Selectable<BuildsTable>
export type TaskRow = Selectable<TasksTable>
export type OrganizationQuotaRow = Selectable<OrganizationQuotasTable>
export type SpaceQuotaRow = Selectable<SpaceQuotasTable>
export type NewEvent = Omit<Insertable<EventsTable>, 'seq' | 'prev_hash' | 'hash'>
export type TaskOutputRow = Selectable<TaskOutputsTable>
export type ServiceInstanceRow = Selectable<ServiceInstancesTable>
export type ServiceBindingRow = Selectable<ServiceBindingsTable>
export type FeatureFlagRow = Selectable<FeatureFlagsTable>
export type EnvironmentVariableGroupRow = Selectable<EnvironmentVariableGroupsTable>
export type AppUsageEventRow = Selectable<AppUsageEventsTable>
