"""Service assistance on the workbench: the county's purchase contracts with the budget spent,
the deliveries of the region by month and status (the provider's record entered, then verified or
rejected by another official), and one household's plan of cash and services. Every form is one
``services`` command; a refusal (the recorder verifying, a budget overspent) is shown beside the
form it came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from safetynet.entrypoints.api.bounds import INT4_MAX
from safetynet.entrypoints.api.policy import Action, in_region
from safetynet.entrypoints.web import outreach_forms as forms
from safetynet.entrypoints.web.errors import attempt
from safetynet.entrypoints.web.rendering import page_locale, render
from safetynet.entrypoints.web.session import NotFound, StaffUser, form_of, service_of, staff
from safetynet.services.model import ServiceContract, ServiceDelivery
from safetynet.services.views import contract_rows, delivery_rows, plan_view

router = APIRouter(include_in_schema=False)

STATUSES = ("planned", "delivered", "verified", "rejected")


def _filters(query: Mapping[str, str]) -> tuple[str | None, str | None]:
    month = query.get("month", "").strip()
    status = query.get("status", "").strip()
    ok_month = len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()
    return (month if ok_month else None), (status if status in STATUSES else None)


def _context(request: Request, user: StaffUser) -> dict[str, Any]:
    service = service_of(request)
    month, status = _filters(request.query_params)
    with service.db.sessions() as session:
        contracts = contract_rows(session, within=user.region)
        deliveries = delivery_rows(session, within=user.region, month=month, status=status)
    query = request.query_params
    return {
        "contracts": contracts,
        **forms.listing("deliveries", deliveries, query),
        **forms.form_state(query, service.today()),
        "month": month or "",
        "status": status or "",
        "statuses": STATUSES,
    }


@router.get("/services")
def services(request: Request, user: Annotated[StaffUser, Depends(staff(Action.READ))]) -> Response:
    return render(request, "services.html", user, _context(request, user))


def _delivery_in_region(request: Request, user: StaffUser, delivery_id: int) -> None:
    """The delivery's contract is of the user's region or below (else "not found")."""
    if not 1 <= delivery_id <= INT4_MAX:
        raise NotFound()
    with service_of(request).db.sessions() as session:
        delivery = session.get(ServiceDelivery, delivery_id)
        contract = session.get(ServiceContract, delivery.contract_id) if delivery else None
        region = contract.region_code if contract is not None else None
    if region is None or not in_region(user.region, region):
        raise NotFound()


async def _delivery_step(request: Request, user: StaffUser, delivery_id: int, key: str) -> Response:
    form = await form_of(request)
    _delivery_in_region(request, user, delivery_id)
    service = service_of(request)
    build = forms.record_delivery if key == "deliver" else forms.verify_delivery

    def run() -> None:
        service.bus.handle(build(form, user.user.actor, service.today(), delivery_id))

    failed = f"{key}-{delivery_id}"
    _, errors = attempt(run, page_locale(request, user), lambda f: f"{failed}-{f}")
    if errors:
        context = _context(request, user)
        context.update(errors=errors, form=form, failed=failed)
        return render(request, "services.html", user, context, status_code=422)
    return RedirectResponse(f"/services?done={key}#delivery-{delivery_id}", status_code=303)


@router.post("/services/deliveries/{delivery_id}/deliver")
async def record_delivery(
    request: Request,
    delivery_id: int,
    user: Annotated[StaffUser, Depends(staff(Action.RECORD_DELIVERY))],
) -> Response:
    """Enter the provider's record of the month's service: how many units, finished when."""
    return await _delivery_step(request, user, delivery_id, "deliver")


@router.post("/services/deliveries/{delivery_id}/verify")
async def verify_delivery(
    request: Request,
    delivery_id: int,
    user: Annotated[StaffUser, Depends(staff(Action.VERIFY_DELIVERY))],
) -> Response:
    """Accept (which pays the provider) or reject a delivered service."""
    return await _delivery_step(request, user, delivery_id, "verify")


@router.get("/services/plans/{plan_id}")
def plan(
    request: Request, plan_id: int, user: Annotated[StaffUser, Depends(staff(Action.READ))]
) -> Response:
    """One household's plan: the cash programs and the services, with the deliveries so far."""
    if not 1 <= plan_id <= INT4_MAX:
        raise NotFound()
    with service_of(request).db.sessions() as session:
        found = plan_view(session, plan_id)
    if found is None or not in_region(user.region, found["region_code"]):
        raise NotFound()
    return render(request, "plan.html", user, {"plan": found})
