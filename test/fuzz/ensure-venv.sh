#!/usr/bin/env bash
# Creates .venv-fuzz/ (gitignored) with the pinned schemathesis used by test/fuzz.test.ts.
# Idempotent: does nothing when the venv already holds exactly requirements.txt. Used by .ci/run
# and, on demand, by the test file itself.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.venv-fuzz"
req="$here/requirements.txt"
stamp="$venv/.requirements.txt"

if [ -x "$venv/bin/schemathesis" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
  exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req"
cp "$req" "$stamp"
echo "fuzzing venv ready: $venv ($("$venv/bin/schemathesis" --version))"
