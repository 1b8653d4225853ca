"""`warnflow federation ...`: this deployment's signing key and the peers it trusts."""

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from models.db import session_scope
from models.federation import PeerRelation
from models.settings import get_settings
from workflows.core.clock import now_utc
from workflows.core.errors import DomainError
from workflows.federation.keys import PeerInput, current_key, generate_key, register_peer

from .operator import operator

federation_app = typer.Typer(
    help="系统对接：签名密钥与对方系统（federation keys and peers）", no_args_is_help=True
)
console = Console(soft_wrap=True)
err = Console(stderr=True)


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]错误：[/]{message}")
    raise typer.Exit(2)


def _print_key(deployment_id: str, kid: str, public_pem: str) -> None:
    console.print(f"系统标识（deployment_id）：{deployment_id}")
    console.print(f"密钥编号（kid）：{kid}")
    console.print("公钥（交给对方管理员登记）：")
    console.print(public_pem.rstrip(), markup=False, highlight=False)


@federation_app.command("keygen")
def keygen() -> None:
    """Generate this deployment's ES256 key pair (the previous key stops signing)."""
    with session_scope() as session:
        key = generate_key(session, actor=operator(), as_of=now_utc())
        kid, public_pem = key.kid, key.public_pem
    console.print("已生成新的签名密钥。")
    _print_key(get_settings().deployment_id, kid, public_pem)


@federation_app.command("show-key")
def show_key() -> None:
    """Print this deployment's id and public key, to hand to the other side."""
    with session_scope() as session:
        key = current_key(session)
        if key is None:
            _fail("尚未生成签名密钥，请先运行 warnflow federation keygen")
        kid, public_pem = key.kid, key.public_pem
    _print_key(get_settings().deployment_id, kid, public_pem)


@federation_app.command("add-peer")
def add_peer(
    deployment_id: Annotated[
        str, typer.Argument(help="对方系统标识（对方的 WARNFLOW_DEPLOYMENT_ID）")
    ],
    name: Annotated[str, typer.Option("--name", help="对方名称，如 中原省财政厅")],
    relation: Annotated[
        PeerRelation, typer.Option(help="parent：本系统向其报送；child：向本系统报送")
    ],
    public_key: Annotated[
        Path, typer.Option("--public-key", exists=True, dir_okay=False, help="对方公钥 PEM 文件")
    ],
    base_url: Annotated[str | None, typer.Option(help="上级系统地址（parent 必填）")] = None,
    region: Annotated[str | None, typer.Option(help="下级所属区划代码（child 必填）")] = None,
) -> None:
    """Register (or update) a parent or child deployment and its public key."""
    try:
        with session_scope() as session:
            peer = register_peer(
                session,
                actor=operator(),
                data=PeerInput(
                    deployment_id=deployment_id,
                    name=name,
                    relation=relation,
                    public_pem=public_key.read_text(encoding="utf-8"),
                    base_url=base_url,
                    region_code=region,
                ),
                as_of=now_utc(),
            )
            kid = peer.kid
    except DomainError as error:
        details = "；".join(f"{e.field}：{e.message}" for e in error.errors)
        _fail(f"{error.message}（{details}）" if details else error.message)
    console.print(f"已登记{relation.label}系统 {name}（{deployment_id}，密钥编号 {kid}）。")
