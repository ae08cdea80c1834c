"""Audit events through the library: v3 AuditEventManager (/v3/audit_events) and the v2
EventManager (/v2/events, with its `q=` filters), for the tasks tasks.py ran.

Env: CF_API, CF_USERNAME, CF_PASSWORD (a space developer), CF_APP_GUID, CF_TASK_GUIDS (comma
separated guids of the tasks created on that app).
"""

from common import Script, env, expect_error, login

s = Script()
app_guid = env("CF_APP_GUID")
task_guids = sorted(env("CF_TASK_GUIDS").split(","))
state: dict = {}
TASK_TYPES = ["audit.app.task.create", "audit.app.task.cancel"]


def task_guid_of(data: dict) -> str | None:
    return (data or {}).get("task_guid")


@s.step
def v3_list_for_app():
    client = state["client"] = login()
    events = list(client.v3.audit_events.list(target_guids=app_guid, types=TASK_TYPES, order_by="created_at"))
    state["v3_first"] = events[0]["guid"] if events else None
    creates = [e for e in events if e["type"] == "audit.app.task.create"]
    return {
        "create_task_guids": sorted(task_guid_of(e["data"]) for e in creates),
        "cancel_task_guids": sorted(task_guid_of(e["data"]) for e in events if e["type"] == "audit.app.task.cancel"),
        "targets": sorted({(e["target"]["guid"], e["target"]["type"]) for e in events}),
        "commands": sorted({e["data"]["request"]["command"] for e in creates}),
        "actor_names": sorted({e["actor"]["name"] for e in events}),
    }


@s.step
def v3_get_one():
    e = state["client"].v3.audit_events.get(state["v3_first"])
    return {"type": e["type"], "space": e["space"]["guid"] is not None, "organization": e["organization"]["guid"] is not None}


@s.step
def v3_unknown_guid():
    return expect_error(lambda: state["client"].v3.audit_events.get("00000000-0000-0000-0000-000000000000"))


@s.step
def v2_list_by_type():
    events = list(state["client"].v2.event.list_by_type("audit.app.task.create"))
    mine = [e for e in events if e["entity"]["actee"] == app_guid]
    return {
        "types": sorted({e["entity"]["type"] for e in events}),
        "task_guids": sorted(e["entity"]["metadata"]["task_guid"] for e in mine),
        "actee_type": sorted({e["entity"]["actee_type"] for e in mine}),
        "commands": sorted({e["entity"]["metadata"]["request"]["command"] for e in mine}),
    }


@s.step
def v2_list_by_actee_and_timestamp():
    v2 = state["client"].v2.event
    by_actee = list(v2.list(actee=app_guid, type="audit.app.task.cancel"))
    since = list(v2.list(actee=app_guid, timestamp={">": "2000-01-01T00:00:00Z"}))
    return {
        "cancelled": [e["entity"]["metadata"]["task_guid"] for e in by_actee],
        "since_count_at_least_tasks": len(since) >= len(task_guids),
    }


@s.step
def v2_get_one():
    first = next(iter(state["client"].v2.event.list_by_type("audit.app.task.create")))
    again = state["client"].v2.event.get(first["metadata"]["guid"])
    return {"same": again["metadata"]["guid"] == first["metadata"]["guid"], "type": again["entity"]["type"]}


s.done()
