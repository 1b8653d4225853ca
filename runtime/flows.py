"""The periodic jobs as Prefect 3 flows: thin wrappers around runtime.jobs, with retries.

Only the scaled-out mode (WARNFLOW_SCHEDULER=prefect) imports this module: importing prefect
costs seconds, and a flow called without PREFECT_API_URL starts a temporary server. The
embedded scheduler calls runtime.jobs directly.

A flow run without `as_of` is a scheduled one: it runs the job's latest cron tick through the
same job_lease as the embedded scheduler, so runs piled up while a worker was down (Prefect
marks them Late and runs them all on restart) do the missed tick once and the rest skip. A
retry of the same flow run may take its own lease again. A flow run with `as_of` is a run by
hand for that moment, like `warnflow jobs run NAME --as-of`.
"""

from datetime import datetime

from prefect import Flow, flow, get_run_logger, serve
from prefect.runtime import flow_run
from prefect.schedules import Cron

from models.db import get_engine
from runtime.jobs import JOBS, get_job, run_now, run_period
from workflows.core.clock import now_utc

RETRIES = 2
RETRY_DELAY_SECONDS = 30


class JobFailed(RuntimeError):
    """The job ran and recorded an error; raised so that Prefect retries and marks it failed."""


def run_job_flow(name: str, as_of: datetime | None) -> dict:
    """What every flow does: run the job once, record it, fail the flow run if the job failed."""
    logger = get_run_logger()
    job = get_job(name)
    engine = get_engine()
    runner = f"prefect:{flow_run.id}"
    if as_of is None:
        run = run_period(engine, job, as_of=now_utc(), holder=runner, retake=True)
        if run is None:
            logger.info("%s: this tick already ran elsewhere (or is past its grace)", name)
            return {"job": name, "outcome": "skipped", "message": "本周期已由其他进程运行"}
    else:
        run = run_now(engine, job, as_of=as_of, runner=runner)
    result = {
        "job": name,
        "scheduled_for": run.scheduled_for.isoformat(),
        "outcome": run.outcome,
        "message": run.message,
        "job_run_id": run.id,
    }
    if run.outcome == "error":
        raise JobFailed(f"{name}: {run.message}")
    logger.info("%s for %s: %s %s", name, run.scheduled_for, run.outcome, run.message)
    return result


_FLOW_OPTIONS = {"retries": RETRIES, "retry_delay_seconds": RETRY_DELAY_SECONDS}


@flow(name="warnflow-sweep", **_FLOW_OPTIONS)
def sweep_flow(as_of: datetime | None = None) -> dict:
    """Deadline sweep: bells, escalation levels, escalation requests, notifications."""
    return run_job_flow("sweep", as_of)


@flow(name="warnflow-dispatch-notifications", **_FLOW_OPTIONS)
def dispatch_notifications_flow(as_of: datetime | None = None) -> dict:
    """Send due notifications from the outbox."""
    return run_job_flow("dispatch_notifications", as_of)


@flow(name="warnflow-daily-digest", **_FLOW_OPTIONS)
def daily_digest_flow(as_of: datetime | None = None) -> dict:
    """The 08:30 digest on working days."""
    return run_job_flow("daily_digest", as_of)


@flow(name="warnflow-evaluate-streaks", **_FLOW_OPTIONS)
def evaluate_streaks_flow(as_of: datetime | None = None) -> dict:
    """The three-month rule on the first working day: last month's streaks, inspections, interviews."""
    return run_job_flow("evaluate_streaks", as_of)


@flow(name="warnflow-prune-job-history", **_FLOW_OPTIONS)
def prune_job_history_flow(as_of: datetime | None = None) -> dict:
    """Delete old job runs and leases."""
    return run_job_flow("prune_job_history", as_of)


def _generic_flow(name: str) -> Flow:
    """A flow for a job registered without a hand-written one (same options, same runner)."""

    def job_flow(as_of: datetime | None = None) -> dict:
        return run_job_flow(name, as_of)

    job_flow.__doc__ = JOBS[name].description
    return flow(name=f"warnflow-{name.replace('_', '-')}", **_FLOW_OPTIONS)(job_flow)


FLOWS: dict[str, Flow] = {
    "sweep": sweep_flow,
    "dispatch_notifications": dispatch_notifications_flow,
    "daily_digest": daily_digest_flow,
    "evaluate_streaks": evaluate_streaks_flow,
    "prune_job_history": prune_job_history_flow,
}
# Every other job in the registry (e.g. the monthly drafting) gets a generic flow, so a new
# job is never missing from `warnflow jobs deploy`.
FLOWS.update({name: _generic_flow(name) for name in JOBS if name not in FLOWS})
# infra/prefect.yaml names each flow by entrypoint "runtime/flows.py:<job>_flow".
globals().update({f"{name}_flow": job_flow for name, job_flow in FLOWS.items()})


def deployments():
    """One deployment per job, on the job's cron in Asia/Shanghai (flow.serve style)."""
    return [
        FLOWS[name].to_deployment(
            name=name,
            schedules=[Cron(job.cron, timezone="Asia/Shanghai")],
            description=job.description,
            tags=["warnflow"],
        )
        for name, job in JOBS.items()
    ]


def serve_deployments() -> None:  # pragma: no cover - runs until stopped
    """Register the deployments and run their flow runs in this process."""
    serve(*deployments())
