"""What the benchmarks share: the database they use, and how they report figures."""

import os
import platform
import statistics
import sys
from pathlib import Path

# `python bench/x.py` puts bench/ first on sys.path; the product's packages live one up
# (appended, so PYTHONPATH can put a patched copy of a package first when comparing).
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

DEFAULT_URL = os.environ.get("WARNFLOW_BENCH_URL", "postgresql://postgres@127.0.0.1:5432/warnflow_bench")


def split_url(url: str) -> tuple[str, str]:
    """(URL of the server's `postgres` database, the database name) for a database URL."""
    base, name = url.rsplit("/", 1)
    return f"{base}/postgres", name.split("?", 1)[0]


def psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def machine() -> str:
    """nproc, RAM and CPU model, for RESULTS.md."""
    ram = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"nproc={os.cpu_count()}, RAM={ram}, CPU={cpu}, Python {platform.python_version()}"


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of a list of numbers."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]
