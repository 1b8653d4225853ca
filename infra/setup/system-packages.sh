#!/usr/bin/env bash
# Installs the Debian packages warnflow needs when they are missing, or fails naming them.
#   runtime: a CJK font for WeasyPrint (without it Chinese renders as empty boxes, silently)
#   test:    runtime + Chromium (browser tests, screenshots) + poppler-utils (pdftotext, pdffonts)
#            + haproxy (the operator-path test runs infra/haproxy.cfg in front of two serve)
#            + postgresql-client (pg_dump/pg_restore: the backup round-trip test on PostgreSQL)
#   runtime on PostgreSQL (WARNFLOW_DATABASE_URL=postgresql…): postgresql-client, which
#            `warnflow backup` / `warnflow restore` run
set -euo pipefail

what="${1:-runtime}"
packages=(fonts-wqy-microhei)
if [[ "$what" == "test" ]]; then
    packages+=(chromium poppler-utils haproxy postgresql-client)
elif [[ "${WARNFLOW_DATABASE_URL:-}" == postgresql* ]]; then
    packages+=(postgresql-client)
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "warnflow: installing Debian packages: ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "warnflow: missing Debian packages: ${missing[*]}" >&2
    echo "          install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null; then
    echo "warnflow: missing packages ${missing[*]} and no apt-get here; install them by hand" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A stale package index is the usual reason an install fails on a fresh machine.
"${sudo[@]}" apt-get update -qq >/dev/null || true
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    echo "warnflow: could not install ${missing[*]} with apt-get; install them and retry" >&2
    exit 1
fi
