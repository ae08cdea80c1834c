"""Harness shared by the scripts that drive the real `cloudfoundry-client` library against a
cf-ledger server (run by test/clients-python.test.ts).

A script runs named steps in order. Each step returns a JSON-able summary of what the library
gave back; the first step that raises stops the script. At the end the script prints one JSON
document on stdout and exits 0 when every step passed, 1 otherwise:

    {"steps": {name: summary}, "failed": null | {"step": name, "error": {...}},
     "http": [[method, path?query, status], ...]}

`http` lists every request the library sent (requests.Session.send is wrapped), so a failure
shows exactly which request the server answered how. Inputs come from the environment: CF_API,
CF_USERNAME, CF_PASSWORD and the script-specific variables each script names.
"""

import base64
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from cloudfoundry_client.client import CloudFoundryClient
from cloudfoundry_client.errors import InvalidStatusCode
from oauth2_client.credentials_manager import OAuthError

API = os.environ["CF_API"]
HTTP: list[list[Any]] = []

_send = requests.Session.send


def _traced_send(self, request, **kwargs):
    response = _send(self, request, **kwargs)
    url = urlsplit(request.url)
    HTTP.append([request.method, url.path + ("?" + url.query if url.query else ""), response.status_code])
    return response


requests.Session.send = _traced_send


def env(name: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise KeyError(f"environment variable {name} is not set")
    return value


def login(username: str | None = None, password: str | None = None) -> CloudFoundryClient:
    """A client logged in with the password grant, as the library's users do."""
    client = CloudFoundryClient(API)
    client.init_with_user_credentials(username or env("CF_USERNAME"), password or env("CF_PASSWORD"))
    return client


def claims(client: CloudFoundryClient) -> dict:
    payload = client._access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def describe_error(e: BaseException) -> dict:
    if isinstance(e, InvalidStatusCode):
        return {"type": "InvalidStatusCode", "status": e.status_code.value, "body": e.body}
    if isinstance(e, OAuthError):
        return {"type": "OAuthError", "status": e.status_code.value, "error": e.error, "description": e.error_description}
    return {"type": type(e).__name__, "message": str(e), "traceback": traceback.format_exc()}


def expect_error(fn: Callable[[], Any]) -> dict:
    """Calls fn, which must raise; returns the error as describe_error shows it."""
    try:
        result = fn()
    except (InvalidStatusCode, OAuthError) as e:
        return describe_error(e)
    raise AssertionError(f"expected an error, got {result!r}")


def wait_until(fn: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting after {timeout}s; last value: {json.dumps(value, default=str)}")
        time.sleep(interval)


class Script:
    def __init__(self) -> None:
        self.steps: dict[str, Any] = {}
        self.failed: dict | None = None

    def step(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """Decorator: runs fn now (unless an earlier step failed) and records its summary."""
        if self.failed is None:
            try:
                self.steps[fn.__name__] = fn()
            except BaseException as e:  # noqa: BLE001 - every failure is reported, not raised
                self.failed = {"step": fn.__name__, "error": describe_error(e)}
        return fn

    def done(self) -> None:
        print(json.dumps({"steps": self.steps, "failed": self.failed, "http": HTTP}, default=str))
        sys.exit(0 if self.failed is None else 1)
