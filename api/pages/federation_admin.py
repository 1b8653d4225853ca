"""系统对接 for the administrator: this deployment's id and public key (to hand to the other
side), the registered peers with the form to add one, and the pushes to parents — the dead
ones with their error and a button to send them again."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import select

from forms.page_forms import errors_of
from models import Region
from models.federation import PeerRelation, PushStatus
from workflows.core.clock import now_utc
from workflows.core.errors import DomainError
from workflows.core.roles import ADMINS
from workflows.federation import exchange as federation
from workflows.federation import keys as federation_keys

from ..deps import SessionDep, SettingsDep, allow
from ..params import Id
from .csrf import CsrfForm, PostedForm
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)
READ = [Depends(allow(ADMINS))]
WRITE = [Depends(allow(ADMINS)), CsrfForm]
PEER_FIELDS = ("deployment_id", "name", "relation", "public_pem", "base_url", "region_code")
_DONE = {
    "key": "已生成新的签名密钥，请把新公钥交给对方系统重新登记",
    "peer": "已登记对方系统",
    "retry": "已重新排队推送",
    "peer_off": "已停用对方系统",
    "peer_on": "已启用对方系统",
}


def _page(
    request: Request,
    session,
    settings,
    *,
    form=None,
    errors=None,
    message=None,
    status_code: int = 200,
):
    peers = federation_keys.list_peers(session)
    region_ids = [p.region_id for p in peers if p.region_id]
    region_rows = session.exec(select(Region).where(Region.id.in_(region_ids))).all()
    return render(
        request,
        "admin/federation.html",
        {
            "deployment_id": settings.deployment_id,
            "key": federation_keys.current_key(session),
            "peers": peers,
            "region_names": {r.id: r.name for r in region_rows},
            "pushes": federation.list_pushes(session, limit=100),
            "relations": PeerRelation.choices(),
            "PushStatus": PushStatus,
            "form": form or {"relation": PeerRelation.CHILD.value},
            "errors": errors or {},
            "message": message,
            "flash": _DONE.get(request.query_params.get("done") or ""),
        },
        status_code=status_code,
    )


@router.get("/admin/federation", dependencies=READ)
def federation_page(request: Request, actor: Viewer, session: SessionDep, settings: SettingsDep):
    return _page(request, session, settings)


@router.post("/admin/federation/key", dependencies=WRITE)
def new_key(actor: Viewer, session: SessionDep):
    federation_keys.generate_key(session, actor=actor, as_of=now_utc())
    return RedirectResponse("/admin/federation?done=key", status_code=303)


@router.post("/admin/federation/peers", dependencies=WRITE)
def add_peer(
    request: Request, actor: Viewer, session: SessionDep, settings: SettingsDep, form: PostedForm
):
    values = {k: str(form.get(k) or "").strip() for k in PEER_FIELDS}
    try:
        with session.begin_nested():
            federation_keys.register_peer(
                session,
                actor=actor,
                data=federation_keys.PeerInput(
                    deployment_id=values["deployment_id"],
                    name=values["name"],
                    relation=values["relation"],
                    public_pem=values["public_pem"],
                    base_url=values["base_url"] or None,
                    region_code=values["region_code"] or None,
                ),
                as_of=now_utc(),
            )
    except DomainError as error:
        return _page(
            request,
            session,
            settings,
            form=values,
            errors=errors_of(error),
            message=error.message,
            status_code=error.status,
        )
    return RedirectResponse("/admin/federation?done=peer", status_code=303)


@router.post("/admin/federation/peers/{peer_id}/active", dependencies=WRITE)
def toggle_peer(peer_id: Id, actor: Viewer, session: SessionDep, form: PostedForm):
    active = str(form.get("active") or "") == "1"
    federation_keys.set_peer_active(session, actor=actor, peer_id=peer_id, active=active,
                                    as_of=now_utc())
    return RedirectResponse(
        f"/admin/federation?done={'peer_on' if active else 'peer_off'}", status_code=303
    )


@router.post("/admin/federation/pushes/{push_id}/retry", dependencies=WRITE)
def retry(push_id: Id, actor: Viewer, session: SessionDep):
    federation.retry_push(session, push_id=push_id, as_of=now_utc())
    return RedirectResponse("/admin/federation?done=retry", status_code=303)
