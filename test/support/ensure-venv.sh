#!/usr/bin/env bash
# Makes sure <repo>/<venv> (gitignored) holds exactly the pinned packages of <requirements.txt>:
# does nothing when it already does, else builds it afresh with python3 -m venv and pip.
#   bash test/support/ensure-venv.sh .venv-clients test/clients/python/requirements.txt
# Used by .ci/run and, on demand, by the test files that drive Python tools.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
[ $# -eq 2 ] || { echo "usage: $0 <venv dir, relative to the repo> <requirements.txt>" >&2; exit 2; }
venv="$root/$1"
req="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
stamp="$venv/.requirements.txt"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
  exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req"
cp "$req" "$stamp"
echo "venv ready: $venv ($("$venv/bin/python" --version), $(wc -l <"$req") pinned requirements)"
