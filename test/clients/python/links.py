"""Follows every GET link the server puts in its resources, the way library users do: the
library turns each entry of `links` into a method on the entity (a list when the name ends in
`s`, a single resource otherwise). Records what each link answered, without stopping at the
first failure. Also calls the AppManager reads that have no link (manifest, revisions).

Env: CF_API, CF_USERNAME, CF_PASSWORD (a space developer), CF_APP_GUID (an app with a droplet
and at least one task), CF_ORG_GUID, CF_SPACE_GUID.
"""

from common import Script, describe_error, env, login

s = Script()
state: dict = {}


def follow(entity) -> dict:
    out = {}
    for name, link in sorted(entity.get("links", {}).items()):
        if name == "self" or link.get("method", "GET") != "GET":
            continue
        try:
            value = getattr(entity, name)()
            out[name] = {"ok": True}
            if hasattr(value, "total_results"):
                list(value)
        except Exception as e:  # noqa: BLE001 - every outcome is recorded
            error = describe_error(e)
            out[name] = {"ok": False, "status": error.get("status"), "type": error["type"]}
    return out


def call(fn) -> dict:
    try:
        value = fn()
        if hasattr(value, "total_results"):
            value = list(value)
        return {"ok": True}
    except Exception as e:  # noqa: BLE001
        error = describe_error(e)
        return {"ok": False, "status": error.get("status"), "type": error["type"]}


@s.step
def resource_links():
    client = state["client"] = login()
    v3 = client.v3
    app = v3.apps.get(env("CF_APP_GUID"))
    task = next(iter(v3.tasks.list(app_guids=app["guid"])))
    process = next(iter(v3.processes.list(app_guids=app["guid"])))
    package = next(iter(v3.apps.list_packages(app["guid"])))
    droplet = next(iter(v3.apps.list_droplets(app["guid"])))
    event = next(iter(v3.audit_events.list(target_guids=app["guid"])))
    role = next(iter(v3.roles.list(space_guids=env("CF_SPACE_GUID"))))
    return {
        "organization": follow(v3.organizations.get(env("CF_ORG_GUID"))),
        "space": follow(v3.spaces.get(env("CF_SPACE_GUID"))),
        "app": follow(app),
        "process": follow(process),
        "task": follow(task),
        "package": follow(package),
        "droplet": follow(droplet),
        "audit_event": follow(event),
        "role": follow(role),
    }


@s.step
def app_manager_reads():
    apps = state["client"].v3.apps
    guid = env("CF_APP_GUID")
    return {
        "get_env": call(lambda: apps.get_env(guid)),
        "list_routes": call(lambda: apps.list_routes(guid)),
        "list_droplets": call(lambda: apps.list_droplets(guid)),
        "list_packages": call(lambda: apps.list_packages(guid)),
        "get_manifest": call(lambda: apps.get_manifest(guid)),
        "list_revisions": call(lambda: apps.list_revisions(guid)),
        "list_deployed_revisions": call(lambda: apps.list_deployed_revisions(guid)),
    }


s.done()
