"""Apps through the library's v3 AppManager: create (the library has no public v3 create in
1.40.4, so this uses the manager's generic _create, which POSTs the body to /v3/apps), get, list
with filters, navigable links, env, processes, environment variables, and deletion through the
delete job.

Env: CF_API, CF_USERNAME, CF_PASSWORD (a space developer), CF_SPACE_GUID, CF_PREFIX.
"""

from cloudfoundry_client.v3.entities import ToOneRelationship

from common import Script, env, expect_error, login

s = Script()
p = env("CF_PREFIX")
state: dict = {}


@s.step
def create_app():
    client = state["client"] = login()
    app = client.v3.apps._create({"name": f"{p}-app", "relationships": {"space": ToOneRelationship(env("CF_SPACE_GUID"))}})
    state["app"] = app["guid"]
    return {"name": app["name"], "state": app["state"], "lifecycle": app["lifecycle"]["type"]}


@s.step
def duplicate_name_is_refused():
    apps = state["client"].v3.apps
    return expect_error(lambda: apps._create({"name": f"{p}-app", "relationships": {"space": ToOneRelationship(env("CF_SPACE_GUID"))}}))


@s.step
def get_and_list():
    apps = state["client"].v3.apps
    got = apps.get(state["app"])
    first = apps.get_first(names=f"{p}-app", space_guids=env("CF_SPACE_GUID"))
    return {
        "got": got["name"],
        "found_by_name": first is not None and first["guid"] == state["app"],
        "in_space": sorted(a["name"] for a in apps.list(space_guids=env("CF_SPACE_GUID"))),
    }


@s.step
def navigate_links():
    app = state["client"].v3.apps.get(state["app"])
    return {"space_name": app.space()["name"], "process_types": sorted(pr["type"] for pr in app.processes()), "tasks": [t["guid"] for t in app.tasks()]}


@s.step
def environment_variables():
    apps = state["client"].v3.apps
    patched = apps._patch(f"{apps.target_endpoint}/v3/apps/{state['app']}/environment_variables", {"var": {"GREETING": "hello from python"}})
    env_doc = apps.get_env(state["app"])
    return {"patched": patched["var"], "user_provided": env_doc["environment_variables"], "has_vcap_application": "VCAP_APPLICATION" in env_doc["application_env_json"]}


@s.step
def processes():
    procs = list(state["client"].v3.processes.list(app_guids=state["app"]))
    return {"types": sorted(pr["type"] for pr in procs), "instances": {pr["type"]: pr["instances"] for pr in procs}}


@s.step
def delete_app_and_wait_for_job():
    apps = state["client"].v3.apps
    apps.remove(state["app"], asynchronous=False)
    return expect_error(lambda: apps.get(state["app"]))


s.done()
