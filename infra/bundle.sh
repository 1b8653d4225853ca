#!/usr/bin/env bash
# `make bundle`: one archive that installs warnflow on a machine that reaches no package
# registry (the finance private network). Built on a machine of the target's kind (Debian 12,
# x86-64, the machine's python3) that does reach them:
#   wheels/   the locked dependencies (uv.lock) as wheels for this platform, and warnflow's own
#   debs/     the Debian packages the set-up installs, with their dependencies
#   project/  prefect.yaml, the set-up scripts and the docs the operator follows
#   install-offline.sh, SHA256SUMS (every file above)
# Downloads are cached under ~/.cache/warnflow-bundle, so a second build fetches nothing new.
# WITH_TEST_PACKAGES=1 adds chromium and poppler-utils (the test set-up) to debs/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

uv=.tools/bin/uv
python=.tools/bin/python        # infra/setup/ensure-uv.sh's venv: has pip for `pip download`
cache="${WARNFLOW_BUNDLE_CACHE:-$HOME/.cache/warnflow-bundle}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)"
name="warnflow-bundle-$version"
out="${BUNDLE_DIR:-var/bundle}"
stage="$out/$name"

rm -rf "$stage"
mkdir -p "$stage/wheels" "$stage/debs" "$stage/project/infra" "$cache/wheels" "$cache/debs"

echo "bundle: wheels (uv.lock, without the dev tools)" >&2
"$uv" export --frozen --no-dev --no-emit-project --no-hashes --quiet -o "$stage/requirements.txt"
# Copies the wheels the lock names from the cache (which may hold older ones); exit 3 if some
# are not there yet.
pick_wheels() {
    "$python" - "$stage/requirements.txt" "$cache/wheels" "$stage/wheels" <<'EOF'
import re, shutil, sys
from pathlib import Path
from pip._vendor.packaging.requirements import Requirement
requirements, cache, target = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
def norm(name): return re.sub(r"[-_.]+", "_", name).lower()
pins = {}
for line in open(requirements):
    line = line.split("#")[0].strip()
    if not line or line.startswith("-"):
        continue
    requirement = Requirement(line)
    # Markers for another platform or Python (pywin32, async-timeout on < 3.11.3) drop out.
    if requirement.marker is None or requirement.marker.evaluate():
        (pin,) = requirement.specifier
        pins[norm(requirement.name)] = pin.version
found = {}
for wheel in cache.glob("*.whl"):
    name, version = wheel.name.split("-")[:2]
    if pins.get(norm(name)) == version:
        found[norm(name)] = wheel
missing = sorted(set(pins) - set(found))
if missing:
    print(f"bundle: not in the cache yet: {', '.join(missing)}", file=sys.stderr)
    sys.exit(3)
for wheel in found.values():
    shutil.copy2(wheel, target / wheel.name)
EOF
}
if ! pick_wheels 2>/dev/null; then
    "$python" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
        -r "$stage/requirements.txt" -d "$cache/wheels" 2> >(grep -v "is ignored: it is neither" >&2)
    pick_wheels
fi
"$uv" build --wheel --quiet --out-dir "$stage/wheels" . 2>/dev/null
rm -rf build ./*.egg-info/SOURCES.txt.bak

echo "bundle: Debian packages" >&2
packages=(fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 python3-venv)
if [[ "${WITH_TEST_PACKAGES:-}" == 1 ]]; then
    packages+=(chromium poppler-utils)
fi
printf '%s\n' "${packages[@]}" > "$stage/debs/PACKAGES"
# The dependency closure, as this machine's apt sees it (the target is the same Debian release).
mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${packages[@]}" | grep -v '^ ' | grep -v '^<' | sort -u)
debs=() fetch=()
# Each package's candidate version and architecture, in one apt-cache call (one per package
# takes a second or more each).
while read -r package version arch; do
    deb="$cache/debs/${package}_${version//:/%3a}_${arch}.deb"
    debs+=("$deb")
    [[ -f "$deb" ]] || fetch+=("$package=$version")
done < <(apt-cache show --no-all-versions "${closure[@]}" |
         awk '/^Package: /{p=$2} /^Version: /{v=$2} /^Architecture: /{print p, v, $2}')
if [[ ${#debs[@]} -ne ${#closure[@]} ]]; then
    echo "bundle: apt-cache knows ${#debs[@]} of the ${#closure[@]} packages needed" >&2
    exit 1
fi
if [[ ${#fetch[@]} -gt 0 ]]; then
    (cd "$cache/debs" && apt-get download -qq "${fetch[@]}")
fi
cp "${debs[@]}" "$stage/debs/"

echo "bundle: project files" >&2
cp infra/install-offline.sh "$stage/"
cp README.md alembic.ini "$stage/project/"
cp infra/README.md infra/prefect.yaml infra/prefect-automations.yaml infra/prefect-setup.sh \
    infra/haproxy.cfg "$stage/project/infra/"
mkdir -p "$stage/project/runtime"
# The worker loads the flows by path (prefect.yaml's entrypoint runtime/flows.py:<job>_flow).
cp runtime/flows.py "$stage/project/runtime/"

(cd "$stage" && find . -type f ! -name SHA256SUMS -printf '%P\n' | sort | xargs sha256sum > SHA256SUMS)
tar -C "$out" -czf "$out/$name.tar.gz" "$name"
(cd "$out" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
echo "$out/$name.tar.gz ($(du -h "$out/$name.tar.gz" | cut -f1), $(ls "$stage/wheels" | wc -l) wheels, $(ls "$stage/debs"/*.deb | wc -l) .deb)"
