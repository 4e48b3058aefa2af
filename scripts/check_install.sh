#!/usr/bin/env bash
# The README's first command on a fresh machine, and the release artifacts, each in a virtual
# environment made with nothing else in it (no JupyterLab, no system site packages):
#   1. a clean clone, `pip install ".[lab]"`, then `jupyter lab`: JupyterLab and colab-guard's
#      /colab-guard/v1/resources answer;
#   2. `python -m build` makes the sdist and the wheel; the wheel, installed with no Node.js on the
#      PATH, lists both extensions as enabled and OK.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

git clone -q . "$work/clone"
echo "== the README's first command, in a fresh virtual environment"
"$PYTHON" -m venv "$work/fresh"
(cd "$work/clone" && "$work/fresh/bin/pip" install -q ".[lab]")
port=$("$work/fresh/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=check-install-token
(cd "$work" && PATH="$work/fresh/bin:$PATH" JUPYTER_CONFIG_DIR="$work/cfg" JUPYTER_DATA_DIR="$work/data" \
  exec jupyter lab --allow-root --no-browser --ip=127.0.0.1 --port="$port" --IdentityProvider.token="$token" \
  >"$work/lab.log" 2>&1) &
server_pid=$!
answered=""
for _ in $(seq 1 120); do
  if curl -sf -H "Authorization: token $token" "http://127.0.0.1:$port/colab-guard/v1/resources" -o "$work/resources.json"; then
    answered=yes; break
  fi
  sleep 1
done
[ -n "$answered" ] || { echo "colab-guard did not answer; JupyterLab's log:"; cat "$work/lab.log"; exit 1; }
curl -sf -H "Authorization: token $token" "http://127.0.0.1:$port/lab" | grep -q "colab-guard" \
  || { echo "JupyterLab's page does not load colab-guard's labextension"; exit 1; }
"$work/fresh/bin/python" -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["host"]["memory"]["limit"] > 0, r' "$work/resources.json"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
echo "JupyterLab and /colab-guard/v1/resources answered"

echo "== python -m build, and the wheel in a fresh environment without Node.js"
"$work/fresh/bin/pip" install -q build
(cd "$work/clone" && "$work/fresh/bin/python" -m build -q --outdir "$work/dist" . >/dev/null)
ls "$work/dist"/*.tar.gz "$work/dist"/*.whl
"$PYTHON" -m venv "$work/wheel"
"$work/wheel/bin/pip" install -q "$work/dist"/*.whl jupyterlab
mkdir "$work/bin"  # only the tools the check itself needs: no node
for tool in bash grep; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
PATH="$work/wheel/bin:$work/bin" "$work/bin/bash" -c '
  ! command -v node >/dev/null || { echo "node is still on the PATH"; exit 1; }
  labextensions=$(jupyter labextension list 2>&1); echo "$labextensions"
  echo "$labextensions" | grep -E "colab-guard .*enabled.*OK" >/dev/null
  serverextensions=$(jupyter server extension list 2>&1); echo "$serverextensions"
  echo "$serverextensions" | grep -A2 -E "colab_guard .*enabled" | grep -q "OK"
'
echo "the wheel lists both extensions as enabled and OK"
