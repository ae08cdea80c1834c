"""Tasks through the library's v3 TaskManager on an app that has a droplet (pushed by the test
over HTTP): run to success and to failure, follow the task's links, list with filters, cancel a
running task, and what an auditor is shown.

Env: CF_API, CF_USERNAME, CF_PASSWORD (a space developer), CF_AUDITOR_USERNAME,
CF_AUDITOR_PASSWORD, CF_APP_GUID. The app's droplet has an executable ./run.sh that echoes its
first argument and exits with its second.
"""

from common import Script, env, expect_error, login, wait_until

s = Script()
app_guid = env("CF_APP_GUID")
state: dict = {}
TERMINAL = ("SUCCEEDED", "FAILED")


def finish(guid: str):
    tasks = state["client"].v3.tasks
    return wait_until(lambda: tasks.get(guid), lambda t: t["state"] in TERMINAL, timeout=60)


def brief(t) -> dict:
    return {k: t.get(k) for k in ("name", "state", "sequence_id", "command", "memory_in_mb", "disk_in_mb", "result")}


@s.step
def create_task():
    client = state["client"] = login()
    t = client.v3.tasks.create(app_guid, command="./run.sh hello 0", name="py-ok", memory_in_mb=128)
    state["ok"] = t["guid"]
    return brief(t)


@s.step
def task_succeeds():
    return brief(finish(state["ok"]))


@s.step
def failing_task():
    t = state["client"].v3.tasks.create(app_guid, command="./run.sh oops 3", name="py-fail")
    state["fail"] = t["guid"]
    return brief(finish(t["guid"]))


@s.step
def default_name_and_limits():
    t = state["client"].v3.tasks.create(app_guid, command="true", disk_in_mb=256)
    state["unnamed"] = t["guid"]
    return brief(finish(t["guid"]))


@s.step
def follow_links():
    t = state["client"].v3.tasks.get(state["ok"])
    return {"app_name": t.app()["guid"] == app_guid and t.app()["name"]}


@s.step
def list_tasks():
    tasks = state["client"].v3.tasks
    first_failed = tasks.get_first(names="py-fail")
    return {
        "for_app": sorted(t["name"] for t in tasks.list(app_guids=app_guid) if t["name"].startswith("py-")),
        "by_name": [t["guid"] == state["ok"] for t in tasks.list(names="py-ok")],
        "failed": sorted(t["name"] for t in tasks.list(app_guids=app_guid, states="FAILED")),
        "first_failed": first_failed is not None and first_failed["guid"] == state["fail"],
        "commands_in_list": [t["command"] for t in tasks.list(app_guids=app_guid) if "command" in t],
        "app_tasks_by_sequence": [t["sequence_id"] for t in state["client"].v3.apps.get(app_guid).tasks()],
    }


@s.step
def cancel_running_task():
    tasks = state["client"].v3.tasks
    t = tasks.create(app_guid, command="sleep 300", name="py-sleep")
    state["sleep"] = t["guid"]
    wait_until(lambda: tasks.get(t["guid"]), lambda x: x["state"] == "RUNNING", timeout=30)
    cancelled = tasks.cancel(t["guid"])
    return {"after_cancel": cancelled["state"], "final": brief(finish(t["guid"]))}


@s.step
def cancel_again_is_refused():
    return expect_error(lambda: state["client"].v3.tasks.cancel(state["sleep"]))


@s.step
def auditor_view():
    auditor = login(env("CF_AUDITOR_USERNAME"), env("CF_AUDITOR_PASSWORD"))
    t = auditor.v3.tasks.get(state["ok"])
    return {"state": t["state"], "has_command": "command" in t, "create": expect_error(lambda: auditor.v3.tasks.create(app_guid, command="true"))}


@s.step
def droplet_link():
    t = state["client"].v3.tasks.get(state["ok"])
    d = t.droplet()
    return {"droplet_state": d["state"], "same_droplet": d["guid"] == t["droplet_guid"]}


print_guids = {k: state.get(k) for k in ("ok", "fail", "unnamed", "sleep")}
s.steps["guids"] = print_guids
s.done()
