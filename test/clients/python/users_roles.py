"""Users and roles through the library's v3 managers: register a UAA user with CC
(POST /v3/users), read users and roles, remove a role and wait for its job.

Env: CF_API, CF_USERNAME, CF_PASSWORD (admin), CF_NEW_USER_GUID (a UAA user not yet known to CC),
CF_ROLE_USER_GUID (a user with organization_user and space_developer roles), CF_ROLE_USERNAME.
"""

from common import Script, env, expect_error, login

s = Script()
state: dict = {}


@s.step
def register_user():
    client = state["client"] = login()
    user = client.v3.users.create(env("CF_NEW_USER_GUID"), meta_labels={"source": "python"})
    return {"guid": user["guid"], "username": user.get("username"), "labels": user["metadata"]["labels"]}


@s.step
def register_again_is_refused():
    return expect_error(lambda: state["client"].v3.users.create(env("CF_NEW_USER_GUID")))


@s.step
def read_users():
    users = state["client"].v3.users
    user = users.get(env("CF_ROLE_USER_GUID"))
    by_name = [u["guid"] for u in users.list(usernames=env("CF_ROLE_USERNAME"))]
    return {"role_username": user["username"], "by_name": by_name, "total": len(users)}


@s.step
def read_roles():
    roles = list(state["client"].v3.roles.list(user_guids=env("CF_ROLE_USER_GUID"), order_by="created_at"))
    state["roles"] = {r["type"]: r["guid"] for r in roles}
    return {"types": sorted(state["roles"])}


@s.step
def remove_role_and_wait():
    roles = state["client"].v3.roles
    roles.remove(state["roles"]["space_developer"], asynchronous=False)
    return {"types": sorted(r["type"] for r in roles.list(user_guids=env("CF_ROLE_USER_GUID")))}


s.done()
