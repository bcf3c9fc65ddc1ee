"""Finding a household and the one-door intake: confirm the facts, see every program it may
qualify for with the amount and why, submit one application that opens a track per program."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from safetynet.cases import commands as c
from safetynet.domain.privacy import mask_text
from safetynet.entrypoints.api.bounds import refuse_amounts_above
from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.web import views
from safetynet.entrypoints.web.errors import FieldErrors, attempt
from safetynet.entrypoints.web.rendering import page_locale, render
from safetynet.entrypoints.web.session import NotFound, StaffUser, form_of, service_of, staff
from safetynet.registry.search import HouseholdHit, SearchPage

router = APIRouter(include_in_schema=False)


@router.get("/households")
def household_search_page(
    request: Request, user: Annotated[StaffUser, Depends(staff(Action.REGISTRY_READ))]
) -> Response:
    return render(request, "households.html", user, {"q": "", "page": None})


@router.post("/households")
async def find_household(
    request: Request, user: Annotated[StaffUser, Depends(staff(Action.REGISTRY_READ))]
) -> Response:
    """Search by identity number (exact) or name (a part of it), within the user's region. A
    POST, so an identity number never stands in a URL (browser history, proxy logs); it is
    shown back masked."""
    form = await form_of(request)
    q = form.get("q", "")
    db = service_of(request).db
    page: SearchPage[HouseholdHit] | None = None
    errors: FieldErrors = []
    if q.strip():
        page, errors = attempt(
            lambda: views.household_search(db, user.region, q), page_locale(request, user),
            lambda _f: "q",
        )  # fmt: skip
    context = {"q": mask_text(q), "page": page, "errors": errors}
    return render(request, "households.html", user, context)


def _household(request: Request, user: StaffUser, household_id: int) -> Any:
    found = views.household_in_region(service_of(request).db, household_id, user.region)
    if found is None:
        raise NotFound()
    return found


@router.get("/households/{household_id}")
def household(
    request: Request,
    household_id: int,
    user: Annotated[StaffUser, Depends(staff(Action.REGISTRY_READ))],
) -> Response:
    found = _household(request, user, household_id)
    cases = views.household_cases(service_of(request).db, household_id)
    return render(request, "household.html", user, {"household": found, "cases": cases})


def _intake_context(request: Request, user: StaffUser, household_id: int) -> dict[str, Any]:
    found = _household(request, user, household_id)
    return {
        "household": found,
        "members": views.intake_members(service_of(request).db, household_id),
        "household_fields": views.HOUSEHOLD_FIELDS,
        "member_money": views.MEMBER_MONEY,
        "member_flags": views.MEMBER_FLAGS,
        "member_numbers": views.MEMBER_NUMBERS,
        "form": {},
        "results": None,
        "errors": [],
    }


@router.get("/households/{household_id}/intake")
def intake_form(
    request: Request,
    household_id: int,
    user: Annotated[StaffUser, Depends(staff(Action.SUBMIT))],
) -> Response:
    return render(request, "intake.html", user, _intake_context(request, user, household_id))


@router.post("/households/{household_id}/intake")
async def intake(
    request: Request,
    household_id: int,
    user: Annotated[StaffUser, Depends(staff(Action.SUBMIT))],
) -> Response:
    """``action=screen``: screen the confirmed facts against every program; ``action=submit``:
    lodge the application for the programs ticked."""
    form = await form_of(request)
    context = _intake_context(request, user, household_id)
    context["form"] = form
    service = service_of(request)
    on = service.today()
    found = context["household"]
    facts = views.household_facts(service.db, found.region, context["members"], form)
    locale = page_locale(request, user)

    def check_and_screen() -> list[views.ScreeningView]:
        refuse_amounts_above(
            service.maximum_amount_fen(on, found.region),
            on=on,
            region=found.region,
            households={"household": facts},
        )
        return views.screening(facts, on, found.region)

    results, errors = attempt(check_and_screen, locale, views.form_field_of)
    context["results"], context["errors"] = results, errors
    chosen = tuple(key.removeprefix("program_") for key in form if key.startswith("program_"))
    if form.get("action") != "submit" or errors:
        return render(request, "intake.html", user, context, status_code=422 if errors else 200)
    command = c.SubmitApplication(
        actor=user.user.actor,
        on=on,
        household_region=found.region,
        household_no=found.household_no,
        region=found.region,
        household=facts,
        programs=chosen or None,
    )
    application_id, errors = attempt(lambda: service.submit(command), locale, views.form_field_of)
    if errors or application_id is None:
        context["errors"] = errors
        return render(request, "intake.html", user, context, status_code=422)
    return RedirectResponse(f"/cases/{application_id}", status_code=303)
