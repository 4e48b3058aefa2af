#!/usr/bin/env bash
# Run every colab-guard check on this machine, installing what they need first:
#   linters (ruff, mypy, ESLint, Prettier, stylelint), the docs (Sphinx), Python tests (pytest: real jupyter_server, real kernels, real cgroups,
#   a real JupyterHub and a real Prometheus), TypeScript unit tests
#   (jest) and UI tests (Galata/Playwright driving real JupyterLab in Debian's Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1  # Playwright cannot download browsers here: Debian's Chromium
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  $SUDO apt-get update -q && $SUDO apt-get install -y -q nodejs npm
fi
if [ ! -x /usr/bin/chromium ]; then
  $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium
fi
# Prometheus and promtool, for tests/server/test_fleet.py (a real Prometheus scrapes real servers)
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  $SUDO apt-get update -q && $SUDO apt-get install -y -q prometheus
fi

# The package, its test dependencies and the built labextension (the build hook runs jlpm).
python -m pip install -q -e ".[dev,test,docs]"
# PyTorch's CPU build, for the snapshot tests of tensors and modules (they skip where it is missing)
python -m pip install -q "torch==2.13.0+cpu" || echo "PyTorch's CPU build is not available: torch tests will skip"

# JupyterHub and configurable-http-proxy 5.2 (5.3 takes commander 15, which needs Node.js >= 22.12) (npm, into the git-ignored .ci-cache/) for tests/server/test_jupyterhub.py and test_hub_clock.py (with the hub's idle culler)
python -m pip install -q jupyterhub jupyterhub-idle-culler || echo "JupyterHub is not available: the hub tests will skip"
(mkdir -p .ci-cache/chp && cd .ci-cache/chp && { [ -f package.json ] || echo '{"private": true}' > package.json; } \
  && npm install --prefix . --no-save --no-audit --no-fund -q configurable-http-proxy@5.2.0) \
  || echo "configurable-http-proxy could not be installed: the hub test will skip"

status=0
echo "== Linters (the same as .pre-commit-config.yaml)"
ruff check . || status=$?
ruff format --check . || status=$?
mypy || status=$?
jlpm lint:check || status=$?
echo "== Docs (Sphinx, warnings as errors)"
python -m sphinx -W --keep-going -q -b html docs docs/_build/html || status=$?
echo "== Python tests (pytest)"
python -m pytest || status=$?
echo "== TypeScript unit tests (jest)"
jlpm test || status=$?
echo "== UI tests (Galata in Chromium)"
(cd ui-tests && jlpm install && CI=1 jlpm playwright test) || status=$?
exit $status
