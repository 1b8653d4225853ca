"""`warnflow backup DEST` and `warnflow restore ARCHIVE` (runtime/backup.py, runtime/restore.py)."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from runtime.backup import BackupError
from runtime.backup import backup as write_backup
from runtime.restore import restore as read_backup

console = Console(soft_wrap=True)


def _fail(error: BackupError) -> None:
    Console(stderr=True, soft_wrap=True).print(f"[bold red]错误：{error}[/]")
    raise typer.Exit(2)


def backup(dest: Annotated[Path, typer.Argument(
        help="目录（在其中写入带时间戳的 warnflow-backup-….tar.gz），或以 .tar.gz 结尾的文件名")]) -> None:
    """Write one consistent archive: database, attachment store, audit head, settings checksum
    and manifest.json."""
    try:
        result = write_backup(dest)
    except BackupError as error:
        _fail(error)
    console.print(result.summary)


def restore(archive: Annotated[Path, typer.Argument(help="warnflow backup 写出的 .tar.gz 备份文件")]) -> None:
    """Restore an archive into an empty database and attachment store, then check it against
    its manifest."""
    try:
        result = read_backup(archive)
    except BackupError as error:
        _fail(error)
    console.print(result.summary)
