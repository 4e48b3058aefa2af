#!/usr/bin/env bash
# The lowest versions colab-guard declares: a virtual environment with exactly each dependency's
# floor from pyproject.toml (the test tools at their newest), and the server and kernel tests in it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
venv=.ci-cache/lowest
rm -rf "$venv"
"$PYTHON" -m venv "$venv"
# each "name>=X" of the project's dependencies, as "name==X"
"$venv/bin/python" - >"$venv/floors.txt" <<'PY'
import re, tomllib
for dependency in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    found = re.match(r"([A-Za-z0-9_.-]+)>=([0-9][0-9.]*)", dependency.replace(" ", ""))
    if found:
        print(f"{found.group(1)}=={found.group(2)}")
PY
echo "== the lowest declared versions:" $(cat "$venv/floors.txt")
"$venv/bin/pip" install -q -c "$venv/floors.txt" -e . "pytest>=7" "pytest-jupyter[server]>=0.6.0" httpx pandas
"$venv/bin/python" -m pytest -q -p no:cacheprovider \
  tests/test_settings_table.py tests/test_payloads.py tests/test_layout.py \
  tests/server/test_resources_api.py tests/server/test_sessions.py tests/server/test_server_to_kernel.py \
  tests/kernel/test_kernel_watcher.py tests/kernel/test_watcher.py tests/kernel/test_renames.py \
  tests/snapshot/test_snapshot.py
