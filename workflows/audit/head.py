"""The chain head kept outside the database: {"seq", "hash", "sealed_at"} in a JSON file.

Written after each seal commit by writing a temporary file beside it and renaming it over the
old one (atomic on POSIX), so a reader sees the old head or the new one, never half of one.
"""

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from models.settings import get_settings


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    sealed_at: str = ""


class HeadUnreadable(ValueError):
    """The head file exists but is not a head (cut short, edited by hand)."""


def head_path(path: Path | None = None) -> Path:
    return Path(path) if path is not None else get_settings().resolved_audit_head_path


def write_head(head: Head, path: Path | None = None) -> None:
    target = head_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"seq": head.seq, "hash": head.hash, "sealed_at": head.sealed_at})
    fd, temporary = tempfile.mkstemp(prefix=".audit-head-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_head(path: Path | None = None) -> Head | None:
    """The recorded head, or None when no seal has written one yet."""
    target = head_path(path)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
        return Head(seq=int(data["seq"]), hash=str(data["hash"]), sealed_at=str(data.get("sealed_at", "")))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as error:
        raise HeadUnreadable(f"链尾文件 {target} 无法读取：{error}") from error


def stamp(moment: datetime) -> str:
    return moment.isoformat()
