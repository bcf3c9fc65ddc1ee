"""``safetynet services`` and ``safetynet charity``: purchase contracts, assistance plans of cash
and services from one needs assessment, deliveries recorded and verified (and so paid to the
provider by the next roll), and referrals to charities of the needs the programs leave unmet
(docs/services.md). The commands only parse their arguments and hand a command to the bus or
call a query."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from safetynet.entrypoints.cli._common import (
    UrlOption,
    cli_actor,
    current_database,
    date_or_today,
    out,
    reports_errors,
)
from safetynet.entrypoints.cli.monitoring_cli import FallbackOption
from safetynet.entrypoints.cli.paths import fallback_file, input_file

__all__ = ["charity_app", "services_app"]

services_app = typer.Typer(
    help="Assistance services: contracts with providers, plans of cash and services, deliveries "
    "verified and paid to the provider once.",
    no_args_is_help=True,
)
contract_app = typer.Typer(help="Purchase contracts with providers.", no_args_is_help=True)
services_app.add_typer(contract_app, name="contract")
charity_app = typer.Typer(
    help="Charity linkage: needs the programs leave unmet, referred with consent, and answered.",
    no_args_is_help=True,
)

OnOption = Annotated[
    str | None, typer.Option("--on", help="The business date YYYY-MM-DD (default today).")
]
RegionOption = Annotated[str, typer.Option("--region", help="6-digit region code.")]


def _yuan(value: str, field: str) -> int:
    from safetynet.domain.money import yuan_to_fen

    return yuan_to_fen(value, field)


def _inputs(
    household: Path | None, fallbacks: Path | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The household's facts and the fallback values, both paths checked before either is read."""
    from safetynet.policy.calculate import read_json
    from safetynet.policy.screening import load_parameter_values

    facts_path = input_file(household, "--household") if household is not None else None
    chosen = fallback_file(fallbacks)
    facts = read_json(facts_path) if facts_path is not None else None
    return facts, (dict(load_parameter_values(chosen)) if chosen else None)


def _handle(url: str | None, command: object) -> Any:
    from safetynet.bootstrap import bootstrap

    with current_database(url) as db:
        return bootstrap(db).handle(command)


@contract_app.command("add")
@reports_errors
def contract_add(
    code: Annotated[str, typer.Argument(help="The contract's number.")],
    service: Annotated[
        str, typer.Argument(help="tekun_care, elderly_visits, ... (the catalogue).")
    ],
    region: RegionOption,
    provider: Annotated[str, typer.Option("--provider", help="The provider's code in payments.")],
    provider_name: Annotated[str, typer.Option("--provider-name", help="Its name.")],
    unit_price: Annotated[str, typer.Option("--unit-price", help="Yuan per unit (hour, visit).")],
    budget: Annotated[str, typer.Option("--budget", help="The contract's budget in yuan.")],
    starts: Annotated[str, typer.Option("--from", help="First day YYYY-MM-DD.")],
    ends: Annotated[str, typer.Option("--to", help="Last day YYYY-MM-DD.")],
    url: UrlOption = None,
) -> None:
    """Record a purchase contract with a provider (register the provider first: safetynet
    payments providers add)."""
    from safetynet.policy.calculate import parse_date
    from safetynet.services.commands import AddServiceContract

    contract_id = _handle(url, AddServiceContract(
        actor=cli_actor("county_officer", region), code=code, service=service, region=region,
        provider_code=provider, provider_name=provider_name,
        unit_price_fen=_yuan(unit_price, "--unit-price"), budget_fen=_yuan(budget, "--budget"),
        starts_on=parse_date(starts, "--from"), ends_on=parse_date(ends, "--to"),
    ))  # fmt: skip
    out.print(f"contract {code} recorded (id {contract_id})", markup=False)


@contract_app.command("list")
@reports_errors
def contract_list(region: RegionOption, url: UrlOption = None) -> None:
    """Contracts of a region and below, with the budget spent on verified deliveries."""
    from safetynet.services.views import contract_rows

    with current_database(url) as db, db.sessions() as session:
        rows = contract_rows(session, within=region)
    out.print_json(json.dumps(rows, ensure_ascii=False))


@services_app.command("plan")
@reports_errors
def plan(
    region: Annotated[str, typer.Argument(help="The household's region.")],
    household_no: Annotated[str, typer.Argument(help="Its number.")],
    household: Annotated[Path, typer.Option("--household", help="The household's facts (JSON).")],
    first: Annotated[str, typer.Option("--from", help="First month YYYY-MM.")],
    last: Annotated[str, typer.Option("--to", help="Last month YYYY-MM.")],
    fallback_parameters: FallbackOption = None,
    on: OnOption = None,
    url: UrlOption = None,
) -> None:
    """Assess the household's needs: the cash programs it qualifies for and the services its
    members need, planned month by month with the county's contracts."""
    from safetynet.services.commands import MakeAssistancePlan
    from safetynet.services.views import plan_view

    facts, fallbacks = _inputs(household, fallback_parameters)
    assert facts is not None
    command = MakeAssistancePlan(
        actor=cli_actor("township_reviewer", region), on=date_or_today(on, "--on"),
        household_region=region, household_no=household_no, household=facts,
        first_month=first, last_month=last, fallbacks=fallbacks,
    )  # fmt: skip
    from safetynet.bootstrap import bootstrap

    with current_database(url) as db:
        plan_id = bootstrap(db).handle(command)
        with db.sessions() as session:
            view = plan_view(session, plan_id)
    out.print_json(json.dumps(view, ensure_ascii=False))


@services_app.command("deliveries")
@reports_errors
def deliveries(
    region: RegionOption,
    month: Annotated[str | None, typer.Option("--month", help="YYYY-MM.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="planned, delivered, verified or rejected.")
    ] = None,
    url: UrlOption = None,
) -> None:
    """The deliveries of a region's contracts."""
    from safetynet.services.views import delivery_rows

    with current_database(url) as db, db.sessions() as session:
        rows = delivery_rows(session, within=region, month=month, status=status)
    out.print_json(json.dumps(rows, ensure_ascii=False))


@services_app.command("deliver")
@reports_errors
def deliver(
    delivery_id: Annotated[int, typer.Argument(help="The delivery.")],
    units: Annotated[int, typer.Option("--units", help="Units delivered in the month.")],
    on: OnOption = None,
    url: UrlOption = None,
) -> None:
    """The provider's record of a month's service."""
    from safetynet.services.commands import RecordDelivery

    _handle(url, RecordDelivery(actor=cli_actor("provider"), delivery_id=delivery_id,
                                units=units, on=date_or_today(on, "--on")))  # fmt: skip
    out.print(f"delivery {delivery_id}: {units} units recorded", markup=False)


@services_app.command("verify")
@reports_errors
def verify(
    delivery_id: Annotated[int, typer.Argument(help="The delivery.")],
    method: Annotated[str, typer.Option("--method", help="visit or signature.")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of accepting.")] = False,
    note: Annotated[str, typer.Option("--note", help="Why (needed to reject).")] = "",
    on: OnOption = None,
    url: UrlOption = None,
) -> None:
    """Accept a delivered service (paid to the provider by the next roll) or reject it."""
    from safetynet.services.commands import VerifyDelivery

    _handle(url, VerifyDelivery(actor=cli_actor("township_reviewer"), delivery_id=delivery_id,
                                on=date_or_today(on, "--on"), method=method, accepted=not reject,
                                note=note))  # fmt: skip
    out.print(f"delivery {delivery_id} {'rejected' if reject else 'verified'}", markup=False)


@charity_app.command("add")
@reports_errors
def charity_add(
    code: Annotated[str, typer.Argument(help="A short code for the organisation.")],
    name: Annotated[str, typer.Option("--name", help="Its registered name.")],
    credit_code: Annotated[str, typer.Option("--credit-code", help="统一社会信用代码 (18).")],
    region: RegionOption,
    takes: Annotated[
        list[str],
        typer.Option("--takes", help="medical_gap, hardship_above_limit or service_not_offered."),
    ],
    url: UrlOption = None,
) -> None:
    """Register a charitable organisation and the kinds of need it takes."""
    from safetynet.services.commands import RegisterCharity

    _handle(url, RegisterCharity(actor=cli_actor("county_officer", region), code=code, name=name,
                                 credit_code=credit_code, region=region, fields=tuple(takes)))  # fmt: skip
    out.print(f"charity {code} registered", markup=False)


@charity_app.command("refer")
@reports_errors
def refer(
    region: Annotated[str, typer.Argument(help="The household's region.")],
    household_no: Annotated[str, typer.Argument(help="Its number.")],
    kind: Annotated[
        str, typer.Argument(help="medical_gap, hardship_above_limit or service_not_offered.")
    ],
    organisation: Annotated[str, typer.Option("--to", help="The organisation's code.")],
    consent_by: Annotated[str, typer.Option("--consent-by", help="Who consented (本人同意).")],
    household: Annotated[
        Path | None, typer.Option("--household", help="The household's facts (for a gap).")
    ] = None,
    plan_id: Annotated[int | None, typer.Option("--plan", help="The plan (a service).")] = None,
    service: Annotated[str | None, typer.Option("--service", help="The service.")] = None,
    fallback_parameters: FallbackOption = None,
    on: OnOption = None,
    url: UrlOption = None,
) -> None:
    """Refer a need the programs leave unmet, with the person's consent."""
    from safetynet.services.commands import ReferToCharity

    facts, fallbacks = _inputs(household, fallback_parameters)
    referral = _handle(url, ReferToCharity(
        actor=cli_actor("township_reviewer", region), on=date_or_today(on, "--on"),
        household_region=region, household_no=household_no, kind=kind, organisation=organisation,
        consent=True, consent_by=consent_by, household=facts, plan_id=plan_id,
        service=service, fallbacks=fallbacks,
    ))  # fmt: skip
    out.print(f"referral {referral} sent to {organisation}", markup=False)


@charity_app.command("answer")
@reports_errors
def answer(
    referral_id: Annotated[int, typer.Argument(help="The referral.")],
    outcome: Annotated[str, typer.Argument(help="met, partly_met or declined.")],
    given: Annotated[str, typer.Option("--given", help="Yuan given (0 if none).")] = "0",
    what: Annotated[str, typer.Option("--what", help="What was given.")] = "",
    on: OnOption = None,
    url: UrlOption = None,
) -> None:
    """Record what the organisation gave back."""
    from safetynet.services.commands import RecordCharityAnswer

    _handle(url, RecordCharityAnswer(actor=cli_actor("township_reviewer"), referral_id=referral_id,
                                     on=date_or_today(on, "--on"), outcome=outcome,
                                     given_fen=_yuan(given, "--given"), given=what))  # fmt: skip
    out.print(f"referral {referral_id}: {outcome}", markup=False)


@charity_app.command("stats")
@reports_errors
def stats(region: RegionOption, url: UrlOption = None) -> None:
    """Needs referred and met per kind, for a region and below."""
    from safetynet.services.charity import charity_stats

    with current_database(url) as db, db.sessions() as session:
        rows = [row.to_json() for row in charity_stats(session, within=region)]
    out.print_json(json.dumps(rows, ensure_ascii=False))
