"""Bits packages through the library's v3 PackageManager: create a bits package and upload a zip
the way the library does it (multipart with a single `bits` file part and no `resources` part),
then list the app's packages. The library has no builds manager and no way to set an app's
current droplet, so staging is not driven from here.

Env: CF_API, CF_USERNAME, CF_PASSWORD (a space developer), CF_SPACE_GUID, CF_PREFIX, CF_WORK_DIR
(a scratch directory for the zip).
"""

import os
import zipfile

from cloudfoundry_client.v3.entities import ToOneRelationship
from cloudfoundry_client.v3.packages import PackageType

from common import Script, env, login, wait_until

s = Script()
p = env("CF_PREFIX")
state: dict = {}


@s.step
def create_package():
    client = state["client"] = login()
    app = client.v3.apps._create({"name": f"{p}-bits", "relationships": {"space": ToOneRelationship(env("CF_SPACE_GUID"))}})
    state["app"] = app["guid"]
    pkg = client.v3.packages.create(app["guid"], PackageType.BITS)
    state["package"] = pkg["guid"]
    return {"type": pkg["type"], "state": pkg["state"], "app": pkg["relationships"]["app"]["data"]["guid"] == app["guid"]}


@s.step
def upload_bits():
    path = os.path.join(env("CF_WORK_DIR"), f"{p}-bits.zip")
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo("run.sh")
        info.external_attr = 0o100755 << 16
        z.writestr(info, "#!/bin/sh\necho from python\n")
    packages = state["client"].v3.packages
    uploaded = packages._upload_bits(state["package"], path)
    ready = wait_until(lambda: packages.get(state["package"]), lambda pkg: pkg["state"] in ("READY", "FAILED"), timeout=30)
    return {"upload_state": uploaded["state"], "final_state": ready["state"]}


@s.step
def list_app_packages():
    client = state["client"]
    return {"guids": [pkg["guid"] == state["package"] for pkg in client.v3.apps.list_packages(state["app"])]}


s.done()
