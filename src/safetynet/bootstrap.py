"""Composition root: builds the message bus once, with every area's command handlers and the event
handlers through which areas react to each other (never at import time, never as default
arguments).

Entry points (CLI, API, batch) call ``bootstrap(db)`` and hand commands to the bus it returns, or
take a unit of work from it (``bus.unit_of_work()``) whose events reach the wired handlers. This
module is the only place that knows which area follows which event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import MetaData

import safetynet.accounts.model
import safetynet.audit.model
import safetynet.batch.model
import safetynet.cases.model
import safetynet.db.calendar_years
import safetynet.insurance.contributions
import safetynet.monitoring.alerts_model
import safetynet.monitoring.model
import safetynet.outreach.model
import safetynet.payments.model
import safetynet.registry.change_model
import safetynet.registry.citizen_model
import safetynet.registry.duplicates_model
import safetynet.registry.model
import safetynet.services.model  # noqa: F401  (imported for their tables)
from safetynet.accounts.handlers import HANDLERS as ACCOUNT_HANDLERS
from safetynet.batch.income_effects import income_effect
from safetynet.cases.events import (
    AmountsScheduled,
    ApplicationSubmitted,
    BenefitAwarded,
    BenefitWithdrawn,
    CalendarChanged,
    RecheckOpened,
)
from safetynet.cases.handlers import HANDLERS as CASE_HANDLERS
from safetynet.cases.handlers import open_recheck_of_alert
from safetynet.cases.merges import follow_persons_merged as cases_follow_merge
from safetynet.db.base import Base
from safetynet.db.engine import Database, migrate
from safetynet.db.messagebus import CommandHandler, EventHandler, MessageBus
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.insurance import pooling, transfer
from safetynet.insurance.contribution_imports import ImportContributions, import_contributions
from safetynet.insurance.merges import follow_persons_merged as insurance_follow_merge
from safetynet.monitoring.alerts import (
    AssignAlert,
    ResolveAlert,
    assign_alert,
    recompute_alert_dues,
    resolve_alert,
    resolve_alert_of_recheck,
)
from safetynet.monitoring.events import AlertResolved, AlertsStored
from safetynet.monitoring.merges import follow_persons_merged as monitoring_follow_merge
from safetynet.outreach.handlers import HANDLERS as OUTREACH_HANDLERS
from safetynet.outreach.handlers import close_leads_of_application
from safetynet.payments.account_changes import check_account, record_account_change
from safetynet.payments.awards import record_benefit_award
from safetynet.payments.facts import follow_income_changes
from safetynet.payments.merges import follow_persons_merged as payments_follow_merge
from safetynet.payments.reactions import (
    place_holds_of_stops,
    record_scheduled_amounts,
    release_hold_of_dismissed_alert,
)
from safetynet.payments.revisions import withdraw_benefit_award
from safetynet.payments.subsidies import AwardMonthSubsidies, award_month_subsidies
from safetynet.policy.cases import JsonKind
from safetynet.policy.parameters import ParameterTree
from safetynet.registry.changes import (
    ApproveChange,
    RejectChange,
    RequestChange,
    approve_change,
    reject_change,
    request_change,
)
from safetynet.registry.citizen_access import (
    DevelopmentSms,
    EndCitizenSession,
    RequestSignInCode,
    SignInRules,
    SmsSender,
    VerifySignInCode,
    end_citizen_session,
    request_sign_in_code,
    verify_sign_in_code,
)
from safetynet.registry.duplicate_reviews import HANDLERS as DUPLICATE_REVIEW_HANDLERS
from safetynet.registry.duplicates import HANDLERS as DUPLICATE_HANDLERS
from safetynet.registry.duplicates import PersonsMerged
from safetynet.registry.events import BankAccountChanged, IncomeChanged
from safetynet.registry.handlers import (
    ChangeEnrolment,
    EnrolHousehold,
    ImportHouseholds,
    MovePerson,
    change_enrolment,
    enrol_household,
    import_households,
    move_person,
)
from safetynet.registry.merges import suspend_emptied_enrolments
from safetynet.registry.regions import sync_regions
from safetynet.registry.rolls import ImportRoll, import_roll
from safetynet.services.charity import HANDLERS as CHARITY_HANDLERS
from safetynet.services.events import ServiceDeliveryVerified
from safetynet.services.handlers import HANDLERS as SERVICE_HANDLERS

__all__ = [
    "Clock",
    "all_metadata",
    "bootstrap",
    "case_file_kinds",
    "event_handlers",
    "system_clock",
    "upgrade",
]

Clock = Callable[[], dt.datetime]
Ev = TypeVar("Ev")


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def all_metadata() -> MetaData:
    """The metadata with every area's tables loaded, for Alembic comparisons and tests."""
    return Base.metadata


def upgrade(db: Database, revision: str = "head") -> None:
    """Create or migrate the schema to ``revision``, then load the region list."""
    migrate(db, revision)
    with db.sessions.begin() as session:
        sync_regions(session)


def _with_clock(handler: Callable[[Any, UnitOfWork, Clock], Any], clock: Clock) -> CommandHandler:
    def run(command: Any, uow: UnitOfWork) -> Any:
        return handler(command, uow, clock)

    return run


def command_handlers(
    clock: Clock, sms: SmsSender | None = None, sign_in: SignInRules | None = None
) -> dict[type, CommandHandler]:
    """Every command the bus takes, with its handler (the clock given to those that ask); a
    citizen's sign-in code goes out through ``sms`` (default: the development sender)."""
    rules = sign_in or SignInRules()
    handlers: dict[type, Callable[[Any, UnitOfWork, Clock], Any]] = {
        **CASE_HANDLERS,
        **DUPLICATE_HANDLERS,
        **OUTREACH_HANDLERS,
        **SERVICE_HANDLERS,
        **CHARITY_HANDLERS,
        **ACCOUNT_HANDLERS,
        **DUPLICATE_REVIEW_HANDLERS,
        ImportHouseholds: import_households,
        ImportRoll: import_roll,
        MovePerson: move_person,
        EnrolHousehold: enrol_household,
        ChangeEnrolment: change_enrolment,
        ImportContributions: import_contributions,
        AssignAlert: assign_alert,
        ResolveAlert: resolve_alert,
        AwardMonthSubsidies: award_month_subsidies,
        # Registry change requests (maker-checker); a requested bank account is checked by
        # payments' rules, which the registry does not import.
        RequestChange: partial(request_change, check_account=check_account),
        ApproveChange: approve_change,
        RejectChange: reject_change,
        # Citizens sign in with a one-time code sent by SMS.
        RequestSignInCode: partial(
            request_sign_in_code, sender=sms or DevelopmentSms(), rules=rules
        ),
        VerifySignInCode: partial(verify_sign_in_code, rules=rules),
        EndCitizenSession: end_citizen_session,
    }
    return {kind: _with_clock(handler, clock) for kind, handler in handlers.items()}


def _follow(
    kind: type[Ev], *handlers: Callable[[Ev, UnitOfWork], None]
) -> tuple[type, Sequence[EventHandler]]:
    """``kind`` with its handlers; type-checked: each handler takes ``kind`` (a follower in another
    area reads it through a ``Protocol`` of its own)."""
    return kind, handlers


def event_handlers() -> Mapping[type, Sequence[EventHandler]]:
    """Who follows what: each event's handlers, called in this order in the publisher's
    transaction."""
    return dict(
        (
            # A registry import corrected or added income of a month: the payments already made
            # for that month and later are checked against it (arrears or recoveries by the next
            # roll).
            _follow(IncomeChanged, partial(follow_income_changes, effect=income_effect)),
            # An approved registry change request gives a household a new bank account: payments
            # records it (ending the account in force) or refuses the approval.
            _follow(BankAccountChanged, record_account_change),
            # Monitoring stored a run's alerts: those that stop the next payment place holds.
            _follow(AlertsStored, place_holds_of_stops),
            # An alert resolved: recheck_started opens the household's re-check (which links the
            # alert to its track); dismissed releases the alert's payment hold.
            _follow(AlertResolved, open_recheck_of_alert, release_hold_of_dismissed_alert),
            # A re-check opened on an alert: the alert is resolved recheck_started (or linked).
            _follow(RecheckOpened, resolve_alert_of_recheck),
            # A gradual exit set the months' amounts: the entitlement schedule says them.
            _follow(AmountsScheduled, record_scheduled_amounts),
            # A one-off benefit was awarded (or its emergency advance granted): payments records
            # it once and pays it by the next roll, or at once from the township reserve.
            _follow(BenefitAwarded, record_benefit_award),
            # A service delivery verified: payments pays the provider once, the same way.
            _follow(ServiceDeliveryVerified, record_benefit_award),
            # An application lodged: the household's open leads (active discovery) end in it.
            _follow(ApplicationSubmitted, close_leads_of_application),
            # A one-off benefit refused (after an appeal sent it back to a decision): payments
            # withdraws its unpaid awards and recovers what was paid.
            _follow(BenefitWithdrawn, withdraw_benefit_award),
            # Two persons merged (duplicates review): every area's rows of the merged person
            # follow the person kept; a household left without members keeps no active
            # enrolment; an alert the kept person already has is dismissed (its hold released).
            _follow(
                PersonsMerged,
                suspend_emptied_enrolments,
                insurance_follow_merge,
                payments_follow_merge,
                monitoring_follow_merge,
                cases_follow_merge,
            ),
            # A calendar year added: monitoring recomputes its alerts' provisional due dates.
            _follow(CalendarChanged, recompute_alert_dues),
        )
    )


def case_file_kinds() -> Mapping[str, JsonKind]:
    """The calculations a rule case file may name besides programs (``safetynet cases run``)."""
    return {
        "central_adjustment": pooling.run_json,
        "pension_transfer": transfer.run_json,
    }


def bootstrap(
    db: Database,
    *,
    clock: Clock = system_clock,
    parameters: ParameterTree | None = None,
    sms: SmsSender | None = None,
    sign_in: SignInRules | None = None,
) -> MessageBus:
    """The message bus on ``db``, every handler wired; ``parameters`` defaults to the shipped
    tree, ``sms`` (the citizens' sign-in codes) to the development sender."""
    return MessageBus(
        db.sessions,
        command_handlers=command_handlers(clock, sms, sign_in),
        event_handlers=event_handlers(),
        parameters=parameters,
    )
