"""Organizations and spaces through the library's v3 managers: create, get, update, list with
filters, include=organization, pagination over next links, deletion jobs; plus what another user
is allowed to see.

Env: CF_API, CF_USERNAME, CF_PASSWORD (admin), CF_OTHER_USERNAME, CF_OTHER_PASSWORD (a space
developer in the org the test created, CF_SETUP_ORG), CF_PREFIX (unique name prefix).
"""

from cloudfoundry_client.errors import InvalidStatusCode

from common import Script, env, expect_error, login, wait_until

s = Script()
p = env("CF_PREFIX")
state: dict = {}


@s.step
def create_org():
    client = state["client"] = login()
    org = client.v3.organizations.create(f"{p}-org", suspended=False, meta_labels={"team": "py"})
    state["org"] = org["guid"]
    return {"name": org["name"], "suspended": org["suspended"], "labels": org["metadata"]["labels"]}


@s.step
def get_and_update_org():
    orgs = state["client"].v3.organizations
    got = orgs.get(state["org"])
    updated = orgs.update(state["org"], f"{p}-org-renamed", meta_annotations={"note": "renamed by python"})
    return {"got": got["name"], "updated": updated["name"], "annotations": updated["metadata"]["annotations"]}


@s.step
def create_spaces():
    spaces = state["client"].v3.spaces
    a = spaces.create(f"{p}-space-a", state["org"])
    b = spaces.create(f"{p}-space-b", state["org"])
    state["space_a"], state["space_b"] = a["guid"], b["guid"]
    renamed = spaces.update(b["guid"], f"{p}-space-b2")
    return {"a": a["name"], "org_of_a": a["relationships"]["organization"]["data"]["guid"] == state["org"], "b": renamed["name"]}


@s.step
def list_orgs():
    orgs = state["client"].v3.organizations
    first = orgs.get_first(names=f"{p}-org-renamed")
    return {
        "names": sorted(o["name"] for o in orgs.list()),
        "by_name": first["guid"] == state["org"] if first else None,
        "by_label": [o["name"] for o in orgs.list(label_selector="team=py")],
        "len": len(orgs),
    }


@s.step
def list_spaces_with_included_org():
    spaces = list(state["client"].v3.spaces.list(organization_guids=state["org"], include="organization", order_by="name"))
    return {"names": [sp["name"] for sp in spaces], "included_org_names": [sp.organization()["name"] for sp in spaces]}


@s.step
def paginate_one_per_page():
    page = state["client"].v3.spaces.list(organization_guids=state["org"], per_page=1)
    return {"total_results": page.total_results, "names": sorted(sp["name"] for sp in page)}


@s.step
def navigate_space_to_org():
    space = state["client"].v3.spaces.get(state["space_a"])
    return {"org_name": space.organization()["name"]}


@s.step
def other_user_sees_only_their_org():
    other = login(env("CF_OTHER_USERNAME"), env("CF_OTHER_PASSWORD"))
    names = sorted(o["name"] for o in other.v3.organizations.list())
    hidden = expect_error(lambda: other.v3.organizations.get(state["org"]))
    return {"names": names, "hidden": hidden}


@s.step
def delete_space():
    spaces = state["client"].v3.spaces
    spaces.remove(state["space_b"])

    def gone():
        try:
            spaces.get(state["space_b"])
            return False
        except InvalidStatusCode as e:
            return e.status_code.value == 404

    wait_until(gone, bool, timeout=30)
    return {"remaining": sorted(sp["name"] for sp in spaces.list(organization_guids=state["org"]))}


@s.step
def delete_org_and_wait_for_job():
    orgs = state["client"].v3.organizations
    orgs.remove(state["org"], asynchronous=False)
    return expect_error(lambda: orgs.get(state["org"]))


s.done()
