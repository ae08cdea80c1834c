"""Root discovery and UAA login through the library: password grant, refresh-token grant with
rotation, bad credentials, and the library's transparent refresh when CC answers 401
CF-InvalidAuthToken (code 1000), which is what CC answers for an expired or otherwise invalid
access token (test/auth.test.ts checks the expired case).

Env: CF_API, CF_USERNAME, CF_PASSWORD, CF_CLIENT_ID and CF_CLIENT_SECRET (a UAA client with the
client_credentials grant and cloud_controller.read/write authorities).
"""

from cloudfoundry_client.client import CloudFoundryClient
from oauth2_client.credentials_manager import OAuthError

from common import Script, claims, env, expect_error, login, API

s = Script()
state: dict = {}


@s.step
def discover():
    client = CloudFoundryClient(API)
    info = client.info
    return {
        "api_endpoint": info.api_endpoint,
        "api_v2_url": info.api_v2_url,
        "api_v3_url": info.api_v3_url,
        "authorization_endpoint": info.authorization_endpoint,
        "doppler_endpoint": info.doppler_endpoint,
        "log_stream_endpoint": info.log_stream_endpoint,
        "token_service": client.service_information.token_service,
    }


@s.step
def password_grant():
    client = login()
    state["client"] = client
    state["refresh_token"] = client.refresh_token
    c = claims(client)
    return {
        "has_refresh_token": bool(client.refresh_token),
        "user_name": c.get("user_name"),
        "client_id": c.get("client_id"),
        "orgs": sorted(o["name"] for o in client.v3.organizations.list()),
    }


@s.step
def refresh_grant():
    client = CloudFoundryClient(API)
    client.init_with_token(state["refresh_token"])
    state["rotated"] = client.refresh_token
    return {
        "user_name": claims(client).get("user_name"),
        "rotated": client.refresh_token not in (None, state["refresh_token"]),
        "orgs": sorted(o["name"] for o in client.v3.organizations.list()),
    }


@s.step
def used_refresh_token_is_refused():
    client = CloudFoundryClient(API)
    return expect_error(lambda: client.init_with_token(state["refresh_token"]))


@s.step
def bad_password():
    return expect_error(lambda: login(env("CF_USERNAME"), "not-the-password"))


@s.step
def client_credentials_grant():
    # The library sends client_id and client_secret both in the form and as HTTP Basic.
    client = CloudFoundryClient(API, client_id=env("CF_CLIENT_ID"), client_secret=env("CF_CLIENT_SECRET"))
    client.init_with_client_credentials()
    c = claims(client)
    return {"client_id": c.get("client_id"), "user_name": c.get("user_name"), "orgs": sorted(o["name"] for o in client.v3.organizations.list())}


@s.step
def no_token_yet():
    client = CloudFoundryClient(API)
    try:
        client.v3.organizations.list()
    except OAuthError as e:
        return {"error": e.error}
    raise AssertionError("a client without a token was able to list organizations")


@s.step
def rejected_access_token_is_refreshed():
    client = login()
    before = client._access_token
    # What the library holds when its token has expired: a token CC no longer accepts. Its own
    # setter puts the value in the Authorization header of its session.
    header, payload, _ = before.split(".")
    client._access_token = f"{header}.{payload}.invalid-signature"
    orgs = sorted(o["name"] for o in client.v3.organizations.list())
    return {"orgs": orgs, "token_changed": client._access_token != before, "refresh_token_kept": bool(client.refresh_token)}


s.done()
