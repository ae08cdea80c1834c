package cfledger;

import java.time.Duration;
import java.util.List;
import org.cloudfoundry.client.v3.Metadata;
import org.cloudfoundry.client.v3.Relationship;
import org.cloudfoundry.client.v3.ToOneRelationship;
import org.cloudfoundry.client.v3.applications.ApplicationRelationships;
import org.cloudfoundry.client.v3.applications.CreateApplicationRequest;
import org.cloudfoundry.client.v3.applications.GetApplicationProcessRequest;
import org.cloudfoundry.client.v3.applications.GetApplicationRequest;
import org.cloudfoundry.client.v3.applications.ListApplicationProcessesRequest;
import org.cloudfoundry.client.v3.applications.ListApplicationTasksRequest;
import org.cloudfoundry.client.v3.applications.ListApplicationsRequest;
import org.cloudfoundry.client.v3.applications.ScaleApplicationRequest;
import org.cloudfoundry.client.v3.applications.UpdateApplicationRequest;
import org.cloudfoundry.client.v3.auditevents.ListAuditEventsRequest;
import org.cloudfoundry.client.v3.organizations.CreateOrganizationRequest;
import org.cloudfoundry.client.v3.organizations.ListOrganizationsRequest;
import org.cloudfoundry.client.v3.organizations.UpdateOrganizationRequest;
import org.cloudfoundry.client.v3.processes.GetProcessRequest;
import org.cloudfoundry.client.v3.spaces.CreateSpaceRequest;
import org.cloudfoundry.client.v3.spaces.GetSpaceRequest;
import org.cloudfoundry.client.v3.spaces.ListSpacesRequest;
import org.cloudfoundry.client.v3.spaces.SpaceRelationships;
import org.cloudfoundry.client.v3.tasks.CreateTaskRequest;
import org.cloudfoundry.client.v3.tasks.GetTaskRequest;
import org.cloudfoundry.client.v3.tasks.TaskState;
import org.cloudfoundry.reactor.DefaultConnectionContext;
import org.cloudfoundry.reactor.client.ReactorCloudFoundryClient;
import org.cloudfoundry.reactor.tokenprovider.PasswordGrantTokenProvider;

/**
 * Drives the CF Java client (cloudfoundry-client-reactor) against a cf-ledger server through
 * orgs, spaces, apps, processes, tasks and audit events, with metadata and paging. Usage:
 * Main HOST PORT USER PASSWORD APP_GUID (an app with a staged droplet, for the task). Prints one
 * "ok ..." line per step and exits 1 at the first failure.
 */
public final class Main {
  private static final Duration T = Duration.ofSeconds(60);

  private static void check(boolean cond, String what) {
    if (!cond) throw new IllegalStateException("check failed: " + what);
  }

  private static ToOneRelationship to(String guid) {
    return ToOneRelationship.builder().data(Relationship.builder().id(guid).build()).build();
  }

  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    DefaultConnectionContext connection = DefaultConnectionContext.builder().apiHost(host).port(port).secure(false).build();
    PasswordGrantTokenProvider tokens = PasswordGrantTokenProvider.builder().username(args[2]).password(args[3]).build();
    ReactorCloudFoundryClient cf = ReactorCloudFoundryClient.builder().connectionContext(connection).tokenProvider(tokens).build();
    String pushedApp = args[4];
    try {
      // Organizations: create, metadata, paging.
      String org = cf.organizationsV3().create(CreateOrganizationRequest.builder().name("java-org-a").build()).block(T).getId();
      cf.organizationsV3().create(CreateOrganizationRequest.builder().name("java-org-b").build()).block(T);
      var updated = cf.organizationsV3()
          .update(UpdateOrganizationRequest.builder().organizationId(org).metadata(Metadata.builder().label("client", "java").annotation("note", "from the CF Java client").build()).build())
          .block(T);
      check("java".equals(updated.getMetadata().getLabels().get("client")), "org label");
      var page = cf.organizationsV3().list(ListOrganizationsRequest.builder().perPage(1).page(2).build()).block(T);
      check(page.getPagination().getTotalResults() >= 3, "org total_results " + page.getPagination().getTotalResults());
      check(page.getResources().size() == 1, "one org per page");
      check(page.getPagination().getPrevious() != null, "previous link on page 2");
      var labelled = cf.organizationsV3().list(ListOrganizationsRequest.builder().name("java-org-a").build()).block(T);
      check(labelled.getResources().size() == 1 && labelled.getResources().get(0).getId().equals(org), "names filter");
      System.out.println("ok organizations " + org);

      // Spaces.
      String space = cf.spacesV3()
          .create(CreateSpaceRequest.builder().name("java-space").relationships(SpaceRelationships.builder().organization(to(org)).build()).build())
          .block(T)
          .getId();
      check("java-space".equals(cf.spacesV3().get(GetSpaceRequest.builder().spaceId(space).build()).block(T).getName()), "space name");
      check(cf.spacesV3().list(ListSpacesRequest.builder().organizationId(org).build()).block(T).getResources().size() == 1, "spaces of org");
      System.out.println("ok spaces " + space);

      // Apps and their processes.
      String app = cf.applicationsV3()
          .create(CreateApplicationRequest.builder().name("java-app").relationships(ApplicationRelationships.builder().space(to(space)).build()).build())
          .block(T)
          .getId();
      var appUpdated = cf.applicationsV3()
          .update(UpdateApplicationRequest.builder().applicationId(app).metadata(Metadata.builder().label("tier", "batch").build()).build())
          .block(T);
      check("batch".equals(appUpdated.getMetadata().getLabels().get("tier")), "app label");
      check("java-app".equals(cf.applicationsV3().get(GetApplicationRequest.builder().applicationId(app).build()).block(T).getName()), "app get");
      var apps = cf.applicationsV3().list(ListApplicationsRequest.builder().spaceId(space).labelSelector("tier=batch").build()).block(T);
      check(apps.getResources().size() == 1, "apps by label");
      System.out.println("ok apps " + app);

      // Processes of the pushed app: the client requires a command, which a process has once a
      // droplet detected one (a fresh app's web process has none, on CC as here).
      var procs = cf.applicationsV3().listProcesses(ListApplicationProcessesRequest.builder().applicationId(pushedApp).type("web").build()).block(T);
      check(procs.getResources().size() == 1, "web process listed by type");
      String web = procs.getResources().get(0).getId();
      cf.applicationsV3().scale(ScaleApplicationRequest.builder().applicationId(pushedApp).type("web").instances(3).memoryInMb(256).build()).block(T);
      var scaled = cf.processes().get(GetProcessRequest.builder().processId(web).build()).block(T);
      check(scaled.getInstances() == 3 && scaled.getMemoryInMb() == 256, "scaled web process");
      check(cf.applicationsV3().getProcess(GetApplicationProcessRequest.builder().applicationId(pushedApp).type("web").build()).block(T).getInstances() == 3, "process by type");
      System.out.println("ok processes " + web);

      // A task on the pushed app, to completion.
      var task = cf.tasks().create(CreateTaskRequest.builder().applicationId(pushedApp).command("echo from-java").name("java-task").build()).block(T);
      TaskState state = task.getState();
      for (int i = 0; i < 120 && state != TaskState.SUCCEEDED && state != TaskState.FAILED; i++) {
        Thread.sleep(250);
        state = cf.tasks().get(GetTaskRequest.builder().taskId(task.getId()).build()).block(T).getState();
      }
      check(state == TaskState.SUCCEEDED, "task state " + state);
      var tasks = cf.applicationsV3().listTasks(ListApplicationTasksRequest.builder().applicationId(pushedApp).perPage(1).build()).block(T);
      check(tasks.getPagination().getTotalResults() >= 1 && tasks.getResources().size() == 1, "tasks paged");
      System.out.println("ok tasks " + task.getId());

      // Audit events of what the client did.
      var events = cf.auditEventsV3().list(ListAuditEventsRequest.builder().targetIds(List.of(pushedApp)).type("audit.app.task.create").build()).block(T);
      check(events.getResources().stream().anyMatch(e -> task.getId().equals(e.getData().get("task_guid"))), "task create event");
      var scaleEvents = cf.auditEventsV3().list(ListAuditEventsRequest.builder().targetId(pushedApp).type("audit.app.process.scale").perPage(1).build()).block(T);
      check(scaleEvents.getPagination().getTotalResults() >= 1 && scaleEvents.getResources().size() == 1, "scale event");
      var orgEvents = cf.auditEventsV3().list(ListAuditEventsRequest.builder().organizationId(org).perPage(2).build()).block(T);
      check(orgEvents.getPagination().getTotalResults() >= 4 && orgEvents.getResources().size() == 2, "org events paged " + orgEvents.getPagination().getTotalResults());
      System.out.println("ok audit_events " + orgEvents.getPagination().getTotalResults());
    } finally {
      connection.dispose();
    }
  }
}
