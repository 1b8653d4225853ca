#!/usr/bin/env bash
# Puts a pinned uv into ./.tools (uv resolves and installs from uv.lock ~15x faster than pip).
# Prints nothing; `make` uses .tools/bin/uv.
set -euo pipefail

UV_VERSION="0.13.9"
tools=".tools"

if ! command -v python3 >/dev/null; then
    echo "warnflow: python3 (>= 3.11) is needed; install it first (Debian: apt-get install python3 python3-venv)" >&2
    exit 1
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "warnflow: python3 >= 3.11 is needed, found $(python3 --version 2>&1)" >&2
    exit 1
fi
if [[ -x "$tools/bin/uv" ]] && [[ "$("$tools/bin/uv" --version)" == "uv $UV_VERSION"* ]]; then
    exit 0
fi
python3 -m venv "$tools"
"$tools/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
