"""The Prefect side is generated from the registry: prefect.yaml, the flows, and nothing in workflows."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

from runtime.deployments import prefect_yaml, tags
from runtime.jobs import JOBS

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_prefect_yaml_is_the_one_the_registry_writes():
    committed = (ROOT / "infra" / "prefect.yaml").read_text(encoding="utf-8")
    assert committed == prefect_yaml(), (
        "infra/prefect.yaml is stale: .venv/bin/python -m runtime.deployments > infra/prefect.yaml"
    )


def test_prefect_yaml_deploys_every_job_on_its_cron_from_the_project_directory_variable():
    spec = yaml.safe_load(prefect_yaml())
    (pull,) = spec["pull"]
    assert pull["prefect.deployments.steps.set_working_directory"]["directory"] == (
        "{{ $WARNFLOW_PROJECT_DIR }}"
    )
    deployed = {
        d["name"]: (d["entrypoint"], d["work_pool"]["name"],
                    [(s["cron"], s["timezone"]) for s in d["schedules"]])
        for d in spec["deployments"]
    }
    assert deployed == {
        name: (f"runtime/flows.py:{name}_flow", "warnflow", [(job.cron, "Asia/Shanghai")])
        for name, job in JOBS.items()
    }


def test_calendar_bound_jobs_are_tagged_so_the_ui_does_not_say_every_day_alone():
    assert tags(JOBS["daily_digest"]) == ["warnflow", "仅工作日"]
    assert tags(JOBS["escalate_late_reports"]) == ["warnflow", "仅工作日"]
    assert tags(JOBS["evaluate_streaks"]) == ["warnflow", "每月第一个工作日"]
    assert tags(JOBS["sweep"]) == ["warnflow"]


FLOWS_SCRIPT = """
import json, pkgutil, importlib, sys
import workflows
for module in pkgutil.walk_packages(workflows.__path__, "workflows."):
    importlib.import_module(module.name)
import runtime.jobs, runtime.scheduler, runtime.health, api.cli
before = "prefect" in sys.modules
import runtime.flows as flows
print(json.dumps({
    "prefect_before_flows": before,
    "flows": {name: [f.name, f.fn.__qualname__, f.description, f.retries]
              for name, f in flows.FLOWS.items()},
    "module_attributes": sorted(n for n in flows.FLOWS if getattr(flows, n + "_flow") is flows.FLOWS[n]),
}, ensure_ascii=False))
"""


def test_one_flow_per_job_generated_and_prefect_imported_by_the_flows_module_only():
    done = subprocess.run([sys.executable, "-c", FLOWS_SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    # Every workflows module, the embedded scheduler and the CLI load without Prefect.
    assert found["prefect_before_flows"] is False
    assert found["module_attributes"] == sorted(JOBS)
    flows = found["flows"]
    assert sorted(flows) == sorted(JOBS)
    assert flows["sweep"][:2] == ["warnflow-sweep", "sweep_flow"]
    assert flows["draft_monthly_reports"][1] == "draft_monthly_reports_flow"
    assert "仅每月第一个工作日执行" in flows["evaluate_streaks"][2]
    assert {retries for *_, retries in flows.values()} == {2}
