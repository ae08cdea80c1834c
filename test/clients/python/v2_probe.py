"""Calls each v2 manager of the library that reads or creates orgs, spaces, apps and users, and
records what the server answered, without stopping at the first failure. cf-ledger serves only
the read-only v2 lists; the test asserts what they return and that v2 writes answer a v2 404.

Env: CF_API, CF_USERNAME, CF_PASSWORD (admin), CF_SPACE_GUID, CF_PREFIX.
"""

from common import Script, describe_error, env, login

s = Script()
state: dict = {}


def probe(fn) -> dict:
    try:
        return {"ok": True, "value": fn()}
    except Exception as e:  # noqa: BLE001 - every outcome is recorded
        return {"ok": False, "error": describe_error(e)}


@s.step
def v2_calls():
    client = login()
    v2 = client.v2
    return {
        "GET /v2/organizations": probe(lambda: [o["entity"]["name"] for o in v2.organizations.list()]),
        "GET /v2/spaces": probe(lambda: [sp["entity"]["name"] for sp in v2.spaces.list()]),
        "GET /v2/apps": probe(lambda: [a["entity"]["name"] for a in v2.apps.list()]),
        "POST /v2/apps": probe(lambda: v2.apps.create(name=f"{env('CF_PREFIX')}-v2app", space_guid=env("CF_SPACE_GUID"))["metadata"]["guid"]),
        "GET /v2/users": probe(lambda: [u["metadata"]["guid"] for u in v2.users.list()]),
        "GET /v2/stacks": probe(lambda: [st["entity"]["name"] for st in v2.stacks.list()]),
    }


s.done()
