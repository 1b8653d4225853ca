"""infra/prefect.yaml, written from the registry: one deployment per job, on its cron.

    .venv/bin/python -m runtime.deployments > infra/prefect.yaml

tests/runtime/test_flows.py fails when the committed file and the registry disagree, so a
new job or a changed cron cannot be forgotten there. No Prefect import: this is plain text.
"""

import json
from importlib.metadata import version

from runtime.jobs import JOBS, Job

POOL = "warnflow"

HEADER = """\
# Prefect 3 deployments of warnflow's periodic jobs (the scaled-out mode, WARNFLOW_SCHEDULER=prefect).
# Written by `python -m runtime.deployments` from runtime/jobs.py: do not edit by hand.
# From the project root, with PREFECT_API_URL and WARNFLOW_PROJECT_DIR set (infra/README.md):
#   prefect --no-prompt deploy --all --prefect-file infra/prefect.yaml
# A process worker on the "warnflow" pool runs them:  prefect worker start --pool warnflow
name: warnflow
prefect-version: {prefect}

# The worker runs the flows from the installed project: the directory is the one in
# WARNFLOW_PROJECT_DIR (the image's /app, or the checkout on a machine set up by hand).
pull:
  - prefect.deployments.steps.set_working_directory:
      directory: "{{{{ $WARNFLOW_PROJECT_DIR }}}}"

deployments:
"""


def tags(job: Job) -> list[str]:
    """Tags the Prefect UI shows beside the schedule, so "every day" does not mislead."""
    extra = []
    if job.first_working_day_of_month:
        extra.append("每月第一个工作日")
    elif job.working_days_only:
        extra.append("仅工作日")
    return ["warnflow", *extra]


def deployment_entry(job: Job, *, cron: str | None = None) -> str:
    description = " ".join(filter(None, (job.description, job.calendar_note)))
    return f"""\
  - name: {job.name}
    entrypoint: runtime/flows.py:{job.name}_flow
    description: {json.dumps(description, ensure_ascii=False)}
    tags: {json.dumps(tags(job), ensure_ascii=False)}
    work_pool:
      name: {POOL}
      work_queue_name: default
    schedules:
      - cron: "{cron or job.cron}"
        timezone: Asia/Shanghai
"""


def prefect_yaml(*, cron: str | None = None) -> str:
    """The whole file; `cron` replaces every job's cron (tests: every job on every minute)."""
    body = "".join(deployment_entry(job, cron=cron) for job in JOBS.values())
    return HEADER.format(prefect=version("prefect")) + body


if __name__ == "__main__":
    print(prefect_yaml(), end="")
