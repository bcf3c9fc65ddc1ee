"""The citizen's pages, mobile first: sign in with a one-time code; the household's benefits, next
payment and cases; apply by self-declaration; follow a case and appeal; ask to change the bank
account or the mobile number. Each page reads the signed-in citizen's own household only (the
service layer's ``household_id`` queries) and hands every change to the bus as a command."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from safetynet.cases.citizen import (
    MemberIncome,
    SelfDeclaration,
    citizen_appeal,
    citizen_complaint,
    household_cases,
    household_complaints,
    own_track,
    self_declared_application,
    self_service_programs,
)
from safetynet.cases.events import ApplicationSubmitted
from safetynet.cases.notices import notice_data, render_notice
from safetynet.cases.workflow import WorkflowError
from safetynet.domain.identity import mask_identity_number
from safetynet.entrypoints.web.citizen import (
    CITIZEN_COOKIE,
    citizen_form,
    current_citizen,
    development_code,
    portal,
    render_citizen,
    require_citizen,
)
from safetynet.entrypoints.web.session import new_token, service_of, token_hash
from safetynet.errors import InputError, SafetyNetError, UnknownNameError
from safetynet.payments.accounts import BANK_CATEGORIES
from safetynet.payments.citizen_view import household_benefits
from safetynet.policy.parameters import default_tree
from safetynet.registry.changes import ChangeDetails, RequestChange
from safetynet.registry.citizen_access import (
    Citizen,
    EndCitizenSession,
    RequestSignInCode,
    SignInRefusedError,
    VerifySignInCode,
)
from safetynet.registry.model import Household, Membership, Person

router = APIRouter(prefix="/citizen", include_in_schema=False)
Signed = Annotated[Citizen, Depends(require_citizen)]


def _error(exc: SafetyNetError) -> tuple[str, str]:
    return (exc.field if isinstance(exc, InputError) else "", str(exc))


def _tree(request: Request) -> Any:
    return service_of(request).parameters or default_tree()


# -- signing in --------------------------------------------------------------------------------


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    if current_citizen(request) is not None:
        return RedirectResponse("/citizen", status_code=303)
    return render_citizen(request, "citizen/sign_in.html", None, {"step": "number"})


@router.post("/code")
async def send_code(request: Request) -> Response:
    form = await citizen_form(request)
    number = form.get("id_number", "").strip()
    client = request.client.host if request.client else ""
    if not portal(request).clients.allow(client, service_of(request).clock()):
        busy = SignInRefusedError(
            "本设备获取验证码次数过多，请一小时后再试",
            "too many codes were asked for from this device; try again in an hour",
        )
        limited = {"step": "number", "id_number": number, "errors": [_error(busy)]}
        return render_citizen(request, "citizen/sign_in.html", None, limited, status_code=429)
    try:
        sent = portal(request).bus.handle(RequestSignInCode(id_number=number))
    except SafetyNetError as exc:
        refused = {"step": "number", "id_number": number, "errors": [_error(exc)]}
        return render_citizen(request, "citizen/sign_in.html", None, refused, status_code=400)
    context = {
        "step": "code",
        "id_number": number,
        "phone": sent.phone_masked,
        "development": development_code(request, sent.phone_masked),
    }
    return render_citizen(request, "citizen/sign_in.html", None, context)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await citizen_form(request)
    number = form.get("id_number", "").strip()
    token = new_token()
    try:
        portal(request).bus.handle(
            VerifySignInCode(
                id_number=number, code=form.get("code", ""), token_sha256=token_hash(token)
            )
        )
    except SafetyNetError as exc:
        context = {"step": "code", "id_number": number, "errors": [_error(exc)]}
        return render_citizen(request, "citizen/sign_in.html", None, context, status_code=401)
    response = RedirectResponse("/citizen", status_code=303)
    response.set_cookie(CITIZEN_COOKIE, token, httponly=True, samesite="lax", path="/citizen")
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await citizen_form(request)
    token = request.cookies.get(CITIZEN_COOKIE)
    if token:
        portal(request).bus.handle(EndCitizenSession(token_sha256=token_hash(token)))
    response = RedirectResponse("/citizen/sign-in", status_code=303)
    response.delete_cookie(CITIZEN_COOKIE, path="/citizen")
    return response


# -- the household's page ----------------------------------------------------------------------


@router.get("")
def home(request: Request, citizen: Signed) -> Response:
    service = service_of(request)
    today = service.today()
    with service.db.sessions() as session:
        benefits = household_benefits(session, citizen.household_id, today, _tree(request))
        cases = household_cases(session, citizen.household_id, today, _tree(request))
        household = session.get(Household, citizen.household_id)
    context = {"benefits": benefits, "cases": cases, "household": household}
    return render_citizen(request, "citizen/home.html", citizen, context)


def _members(request: Request, household_id: int) -> list[dict[str, Any]]:
    with service_of(request).db.sessions() as session:
        rows = session.execute(
            select(Person.id, Person.name, Person.id_number, Membership.relation)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.household_id == household_id, Membership.end_date.is_(None))
            .order_by(Person.id)
        ).all()
    return [
        {"id": pid, "name": name, "masked": mask_identity_number(number), "relation": relation}
        for pid, name, number, relation in rows
    ]


# -- applying ----------------------------------------------------------------------------------


def _apply_page(
    request: Request, citizen: Citizen, form: dict[str, str], errors: list[tuple[str, str]]
) -> Response:
    context = {
        "programs": self_service_programs(),
        "members": _members(request, citizen.household_id),
        "form": form,
        "errors": errors,
    }
    status = 400 if errors else 200
    return render_citizen(request, "citizen/apply.html", citizen, context, status_code=status)


@router.get("/apply")
def apply_page(request: Request, citizen: Signed) -> Response:
    return _apply_page(request, citizen, {}, [])


def _yuan(form: dict[str, str], name: str) -> Decimal:
    text = form.get(name, "").strip() or "0"
    try:
        return Decimal(text)
    except InvalidOperation:
        raise InputError(name, "请填写金额（元） / give an amount in yuan") from None


def _declaration(form: dict[str, str], members: list[dict[str, Any]]) -> SelfDeclaration:
    chosen = tuple(p for p in form.get("programs[]", "").split("\n") if p)
    incomes = tuple(
        MemberIncome(
            person_id=m["id"],
            wage_income=_yuan(form, f"wage_{m['id']}"),
            other_income=_yuan(form, f"other_{m['id']}"),
            employed=form.get(f"employed_{m['id']}") == "yes",
        )
        for m in members
    )
    return SelfDeclaration(
        programs=chosen,
        members=incomes,
        financial_assets=_yuan(form, "financial_assets"),
        promise=form.get("promise") == "yes",
    )


@router.post("/apply")
async def apply(request: Request, citizen: Signed) -> Response:
    form = await citizen_form(request)
    service = service_of(request)
    try:
        declaration = _declaration(form, _members(request, citizen.household_id))
        with service.db.sessions() as session:
            command = self_declared_application(
                session, citizen.household_id, declaration, on=service.today(), actor=citizen.actor
            )
        event = portal(request).bus.handle(command)
    except SafetyNetError as exc:
        return _apply_page(request, citizen, form, [_error(exc)])
    assert isinstance(event, ApplicationSubmitted)
    target = f"/citizen/cases/{event.track_ids[0]}" if event.track_ids else "/citizen"
    return RedirectResponse(target, status_code=303)


# -- following a case --------------------------------------------------------------------------


def _case_page(
    request: Request,
    citizen: Citizen,
    track_id: int,
    errors: list[tuple[str, str]],
    notice: str = "",
) -> Response:
    service = service_of(request)
    today = service.today()
    with service.db.sessions() as session:
        own_track(session, citizen.household_id, track_id)  # another household's: unknown
        cases = household_cases(session, citizen.household_id, today, _tree(request))
    track = next(t for case in cases for t in case.tracks if t.track_id == track_id)
    context = {"track": track, "errors": errors, "notice": notice, "today": today}
    status = 400 if errors else 200
    return render_citizen(request, "citizen/case.html", citizen, context, status_code=status)


def _not_found(request: Request, citizen: Citizen) -> Response:
    return render_citizen(request, "citizen/not_found.html", citizen, status_code=404)


@router.get("/cases/{track_id}")
def case_page(request: Request, citizen: Signed, track_id: int) -> Response:
    try:
        return _case_page(request, citizen, track_id, [])
    except UnknownNameError:  # not the household's own (or no such track): the same answer
        return _not_found(request, citizen)


@router.post("/cases/{track_id}/appeal")
async def appeal(request: Request, citizen: Signed, track_id: int) -> Response:
    form = await citizen_form(request)
    service = service_of(request)
    with service.db.sessions() as session:
        try:
            own_track(session, citizen.household_id, track_id)
        except UnknownNameError:
            return _not_found(request, citizen)
    kind: Literal["reconsideration", "litigation"] = (
        "litigation" if form.get("kind") == "litigation" else "reconsideration"
    )
    try:
        known = dt.date.fromisoformat(form.get("decision_known_on", ""))
    except ValueError:
        return _case_page(
            request, citizen, track_id, [("decision_known_on", "请填写日期 / give a date")]
        )
    try:
        with service.db.sessions() as session:
            command = citizen_appeal(
                session,
                citizen.household_id,
                track_id,
                kind=kind,
                grounds=form.get("grounds", ""),
                decision_known_on=known,
                on=service.today(),
                actor=citizen.actor,
            )
        portal(request).bus.handle(command)
    except SafetyNetError as exc:
        return _case_page(request, citizen, track_id, [_error(exc)])
    return _case_page(request, citizen, track_id, [], notice="appeal_lodged")


@router.get("/cases/{track_id}/notice")
def notice_pdf(request: Request, citizen: Signed, track_id: int) -> Response:
    service = service_of(request)
    try:
        with service.db.sessions() as session:
            own_track(session, citizen.household_id, track_id)
            data = notice_data(session, track_id, service.parameters)
    except (UnknownNameError, WorkflowError):
        return _not_found(request, citizen)
    return Response(render_notice(data), media_type="application/pdf")


# -- change requests ---------------------------------------------------------------------------


def _changes_page(
    request: Request, citizen: Citizen, errors: list[tuple[str, str]], notice: str = ""
) -> Response:
    context = {
        "banks": sorted(BANK_CATEGORIES.items()),
        "members": _members(request, citizen.household_id),
        "errors": errors,
        "notice": notice,
    }
    status = 400 if errors else 200
    return render_citizen(request, "citizen/changes.html", citizen, context, status_code=status)


@router.get("/changes")
def changes_page(request: Request, citizen: Signed) -> Response:
    return _changes_page(request, citizen, [])


def _change_command(request: Request, citizen: Citizen, form: dict[str, str]) -> RequestChange:
    service = service_of(request)
    with service.db.sessions() as session:
        household = session.get(Household, citizen.household_id)
        person = session.get(Person, citizen.person_id)
    assert household is not None
    assert person is not None
    if form.get("kind") == "phone":
        kind = "fact_change"
        details = ChangeDetails(
            id_number=person.id_number, field="phone", value=form.get("phone", "")
        )
    else:
        kind = "bank_account_change"
        details = ChangeDetails(
            id_number=person.id_number,
            bank_code=form.get("bank_code", ""),
            account_number=form.get("account_number", ""),
            on=service.today(),
        )
    return RequestChange(
        region=household.region_code,
        household_no=household.household_no,
        kind=kind,
        details=details,
        reason=form.get("reason", "").strip() or "本人通过网上服务申请变更",
        actor=citizen.actor,
    )


@router.post("/changes")
async def request_change(request: Request, citizen: Signed) -> Response:
    form = await citizen_form(request)
    try:
        portal(request).bus.handle(_change_command(request, citizen, form))
    except SafetyNetError as exc:
        return _changes_page(request, citizen, [_error(exc)])
    return _changes_page(request, citizen, [], notice="change_requested")


# -- complaints --------------------------------------------------------------------------------


def _complaints_page(
    request: Request, citizen: Citizen, errors: list[tuple[str, str]], notice: str = ""
) -> Response:
    service = service_of(request)
    with service.db.sessions() as session:
        complaints = household_complaints(session, citizen.household_id)
        cases = household_cases(session, citizen.household_id, service.today(), _tree(request))
    tracks = [(t.track_id, t.title_zh) for case in cases for t in case.tracks]
    context = {"complaints": complaints, "tracks": tracks, "errors": errors, "notice": notice}
    status = 400 if errors else 200
    return render_citizen(request, "citizen/complaints.html", citizen, context, status_code=status)


@router.get("/complaints")
def complaints_page(request: Request, citizen: Signed) -> Response:
    return _complaints_page(request, citizen, [])


@router.post("/complaints")
async def complain(request: Request, citizen: Signed) -> Response:
    form = await citizen_form(request)
    service = service_of(request)
    about = form.get("track_id", "")
    try:
        with service.db.sessions() as session:
            command = citizen_complaint(
                session,
                citizen.household_id,
                text=form.get("text", ""),
                track_id=int(about) if about.isdigit() else None,
                on=service.today(),
                actor=citizen.actor,
            )
        portal(request).bus.handle(command)
    except SafetyNetError as exc:
        return _complaints_page(request, citizen, [_error(exc)])
    return _complaints_page(request, citizen, [], notice="complaint_lodged")
