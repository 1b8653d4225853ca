#!/usr/bin/env bash
# Puts warnflow on the Prefect server at PREFECT_API_URL: the "warnflow" process work pool, one
# deployment per job (infra/prefect.yaml) and the automation that marks crashed runs.
# Safe to run again (after an upgrade: it updates the deployments). From any directory:
#   PREFECT_API_URL=http://127.0.0.1:4200/api bash infra/prefect-setup.sh
set -euo pipefail
project="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$project"
: "${PREFECT_API_URL:?set PREFECT_API_URL, e.g. http://127.0.0.1:4200/api}"
# The worker runs the flows from this directory (prefect.yaml's pull step reads it).
export WARNFLOW_PROJECT_DIR="${WARNFLOW_PROJECT_DIR:-$project}"
if [[ -x .venv/bin/prefect ]]; then prefect=.venv/bin/prefect; else prefect=prefect; fi

"$prefect" work-pool inspect warnflow >/dev/null 2>&1 ||
    "$prefect" work-pool create warnflow --type process
"$prefect" --no-prompt deploy --all --prefect-file infra/prefect.yaml
# `prefect automation create` adds a copy each time: create it only if the server has none.
curl -fsS -X POST "$PREFECT_API_URL/automations/filter" -H "Content-Type: application/json" -d '{}' |
    grep -q '"warnflow-crashed-runs"' ||
    "$prefect" automation create --from-file infra/prefect-automations.yaml
echo "warnflow: work pool, $(grep -c '^  - name:' infra/prefect.yaml) deployments and the crashed-run automation are on $PREFECT_API_URL"
