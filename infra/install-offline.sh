#!/usr/bin/env bash
# Installs or upgrades warnflow from this unpacked bundle, with no network at all:
#   sudo bash install-offline.sh [TARGET]        (TARGET defaults to /opt/warnflow)
# 1. checks every file against SHA256SUMS;
# 2. installs the bundle's .deb files that are not installed at that version (dpkg -i, no apt
#    source: the dependencies are in the bundle);
# 3. creates TARGET/.venv with the machine's python3 and installs the wheels with
#    pip --no-index (no Python download, no package index);
# 4. copies the operator's files (infra/, README) to TARGET;
# 5. runs `warnflow migrate` when WARNFLOW_DATABASE_URL is set (here or in WARNFLOW_ENV_FILE,
#    default /etc/warnflow/warnflow.env): an upgrade keeps the data and brings the schema up.
# Stop warnflow's processes before an upgrade (the venv is replaced); start them after.
set -euo pipefail
bundle="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target="${1:-/opt/warnflow}"
cd "$bundle"

echo "warnflow: checking the bundle (SHA256SUMS)" >&2
sha256sum --quiet --strict -c SHA256SUMS

missing=()
for deb in debs/*.deb; do
    package="$(dpkg-deb -f "$deb" Package)"
    version="$(dpkg-deb -f "$deb" Version)"
    installed="$(dpkg-query -W -f='${Status} ${Version}' "$package" 2>/dev/null || true)"
    [[ "$installed" == "install ok installed $version" ]] || missing+=("$deb")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "warnflow: installing ${#missing[@]} Debian packages from the bundle" >&2
    if [[ $(id -u) -ne 0 ]]; then
        echo "warnflow: run as root (sudo) to install: ${missing[*]}" >&2
        exit 1
    fi
    # All at once: dpkg unpacks them all, then configures them in dependency order.
    DEBIAN_FRONTEND=noninteractive dpkg -i "${missing[@]}" >/dev/null
fi

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "warnflow: python3 >= 3.11 is needed, found $(python3 --version 2>&1)" >&2
    exit 1
fi
app_wheel="$(ls wheels/warnflow-*.whl)"
echo "warnflow: installing into $target/.venv (pip --no-index)" >&2
mkdir -p "$target"
rm -rf "$target/.venv"
python3 -m venv "$target/.venv"
PIP_NO_INDEX=1 "$target/.venv/bin/pip" install --quiet --no-index --disable-pip-version-check \
    --find-links wheels -r requirements.txt "$app_wheel"
cp -r project/. "$target/"

env_file="${WARNFLOW_ENV_FILE:-/etc/warnflow/warnflow.env}"
if [[ -z "${WARNFLOW_DATABASE_URL:-}" && -f "$env_file" ]]; then
    set -a
    # shellcheck disable=SC1090
    . "$env_file"
    set +a
fi
if [[ -n "${WARNFLOW_DATABASE_URL:-}" ]]; then
    (cd "$target" && .venv/bin/warnflow migrate)
else
    echo "warnflow: no WARNFLOW_DATABASE_URL yet: write $env_file (infra/README.md step 2), then run $target/.venv/bin/warnflow migrate" >&2
fi
echo "warnflow $("$target/.venv/bin/python" -c 'from importlib.metadata import version; print(version("warnflow"))') installed in $target; next: $target/infra/README.md (steps 4-8, from $target)"
