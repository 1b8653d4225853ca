"""The periodic jobs as Prefect 3 flows, generated from the registry: one `<job>_flow` each.

Only the scaled-out mode (WARNFLOW_SCHEDULER=prefect) imports this module: importing prefect
costs seconds, and a flow called without PREFECT_API_URL starts a temporary server. The
embedded scheduler calls runtime.jobs directly.

A flow run without `as_of` is a scheduled one: its tick is the flow run's own scheduled start
time (Prefect may start it a little early or late; the clock is never read for the tick). The
tick goes through the same job_lease as the embedded scheduler, so a re-run of a tick that
already ran ends in the state "Skipped" (a Completed state of that name, visible in the UI),
not a plain "Completed". A retry of the same flow run may take its own lease again. A flow
run with `as_of` is a run by hand for that moment, like `warnflow jobs run NAME --as-of`; an
`as_of` without an offset is Shanghai time.

infra/prefect.yaml deploys each flow by entrypoint `runtime/flows.py:<job>_flow`;
tests/runtime/test_flows.py checks it against the registry.
"""

from datetime import UTC, datetime

from prefect import Flow, flow, get_run_logger
from prefect.runtime import flow_run
from prefect.states import Completed, State

from models.db import get_engine
from runtime.jobs import JOBS, Job, get_job, run_now, run_tick
from workflows.core.calendar import LOCAL_TZ

RETRIES = 2
RETRY_DELAY_SECONDS = 30
SKIPPED = "Skipped"


class JobFailed(RuntimeError):
    """The job ran and recorded an error; raised so that Prefect retries and marks it failed."""


def scheduled_tick() -> datetime:
    """This flow run's scheduled start time, as a plain UTC datetime."""
    moment = flow_run.scheduled_start_time
    # Prefect hands its own datetime type (whenever/pendulum based) depending on the version.
    return datetime.fromtimestamp(moment.timestamp(), UTC)


def as_local(moment: datetime) -> datetime:
    """A moment typed without an offset (a run by hand) is Shanghai time."""
    return moment.replace(tzinfo=LOCAL_TZ) if moment.tzinfo is None else moment


def run_job_flow(name: str, as_of: datetime | None, *, tick: datetime | None = None) -> dict | State:
    """What every flow does: run the job once, record it, fail the flow run if the job failed."""
    logger = get_run_logger()
    job = get_job(name)
    engine = get_engine()
    runner = f"prefect:{flow_run.id}"
    if as_of is None:
        done = run_tick(engine, job, tick=tick or scheduled_tick(), holder=runner, retake=True)
        if done.run is None:
            logger.info("%s for %s: %s", name, done.tick.isoformat(), done.skipped)
            return Completed(
                name=SKIPPED,
                message=done.skipped,
                data={"job": name, "scheduled_for": done.tick.isoformat(), "outcome": "skipped",
                      "message": done.skipped},
            )
        run = done.run
    else:
        run = run_now(engine, job, as_of=as_local(as_of), runner=runner)
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
    if run.outcome == "skipped":  # the calendar said there is nothing to do today
        return Completed(name=SKIPPED, message=run.message, data=result)
    return result


def flow_name(job_name: str) -> str:
    return f"warnflow-{job_name.replace('_', '-')}"


def _job_flow(job: Job) -> Flow:
    def job_flow(as_of: datetime | None = None) -> dict | State:
        return run_job_flow(job.name, as_of)

    # The name Prefect records as the entrypoint's attribute: `runtime/flows.py:<job>_flow`.
    job_flow.__name__ = job_flow.__qualname__ = f"{job.name}_flow"
    job_flow.__doc__ = " ".join(filter(None, (job.description, job.calendar_note)))
    return flow(
        name=flow_name(job.name),
        description=job_flow.__doc__,
        retries=RETRIES,
        retry_delay_seconds=RETRY_DELAY_SECONDS,
    )(job_flow)


FLOWS: dict[str, Flow] = {name: _job_flow(job) for name, job in JOBS.items()}
# Module attributes, so that a worker loading `runtime/flows.py:sweep_flow` finds each one.
globals().update({f"{name}_flow": job_flow for name, job_flow in FLOWS.items()})
