"""`warnflow audit seal` and `warnflow audit verify`: the tamper-evident audit chain."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from models.db import get_engine, session_scope, writer
from workflows.audit.head import head_path
from workflows.audit.nightly import check_chain
from workflows.audit.seal import seal as seal_chain
from workflows.core.clock import now_utc

audit_app = typer.Typer(help="审计链：封存与校验审计记录（tamper-evident audit trail）",
                        no_args_is_help=True)  # fmt: skip
console = Console(soft_wrap=True)

HeadFile = Annotated[Path | None, typer.Option(
    "--head-file", help="链尾文件（默认：设置 WARNFLOW_AUDIT_HEAD_PATH，或数据库文件旁的 audit-head.json）")]


@audit_app.command("seal")
def seal(head_file: HeadFile = None) -> None:
    """Link every audited row not yet in the chain and rewrite the head file (the audit_seal
    job does this every minute)."""
    with session_scope(writer(get_engine())) as session:
        result = seal_chain(session, as_of=now_utc(), head_file=head_file)
    console.print(f"{result.summary}（链尾文件 {head_path(head_file)}）")


@audit_app.command("verify")
def verify(head_file: HeadFile = None) -> None:
    """Walk the chain, recompute every row's digest, check the head file; exit 1 on the first
    broken link. The outcome is kept for /healthz."""
    # The administrators are alerted by the nightly job; here the operator reads the answer.
    result = check_chain(get_engine(), as_of=now_utc(), head_file=head_file, alert=False)
    if result.passed:
        console.print(result.summary)
        return
    Console(stderr=True, soft_wrap=True).print(f"[bold red]{result.summary}[/]")
    raise typer.Exit(1)
