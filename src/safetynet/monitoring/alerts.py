"""Dynamic monitoring alerts: the rules that turn a county's comparison into alerts, and the
alerts' storage and lifecycle in the registry.

Each rule's switch, scope, severity, owner office, time limit (working days) and action are dated
parameters under ``assistance.monitoring.alerts.<rule>`` (docs/monitoring.md), looked up for the
county and the month. ``raise_alerts`` reads one ``Comparison``; the step across counties (the same
person paid in two counties, or by two mutually exclusive programs) is ``duplicate_alerts`` over
every county's ``recipients_of``. The result is an Arrow table, one row per alert; evidence is JSON
with identity numbers masked; all of that is pure. ``store_alerts`` writes them idempotently (one
row per rule, subject and month; an alert still open from an earlier month is not raised again),
and ``assign_alert`` / ``resolve_alert`` are the lifecycle commands, each one transaction with its
audit entry.

Other areas follow the events stored and resolved alerts emit (``monitoring.events``, wired in
``safetynet.bootstrap``), in the same transaction: an alert whose action is ``stop_next_payment``
places a payment hold on its household (every program; ``payments.reactions``) from the alert's
month, unless that month's instructions of the household have all gone to the bank, then from the
month after. Dismissing the alert releases the hold; a confirmed outcome keeps it
(docs/monitoring.md). Resolving an alert ``recheck_started`` opens a re-check (cases), and opening
a re-check resolves its alert (``resolve_alert_of_recheck``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import mask_identity_number
from safetynet.domain.workdays import Deadline, DeadlineBasis, add_working_days
from safetynet.errors import InputError, UnknownNameError
from safetynet.monitoring.alerts_model import OUTCOMES, Alert
from safetynet.monitoring.compare import Comparison
from safetynet.monitoring.events import AlertResolved, AlertsStored, PaymentStop
from safetynet.policy.engine import Params, monitored_programs, program
from safetynet.registry.county_data import CountyData

__all__ = [
    "ACTIONS",
    "ALERT_SCHEMA",
    "RECIPIENT_SCHEMA",
    "RULES",
    "AssignAlert",
    "OpenedRecheck",
    "ResolveAlert",
    "RuleSetting",
    "StoreCounts",
    "alert_counts",
    "assign_alert",
    "duplicate_alerts",
    "list_alerts",
    "overdue_by_office",
    "raise_alerts",
    "recipients_of",
    "recompute_alert_dues",
    "resolve_alert",
    "resolve_alert_of_recheck",
    "resolve_in",
    "rule_settings",
    "store_alerts",
]

P = "assistance.monitoring.alerts."
# rule → the difference items it watches (rules on the dibao tests and duplicates have none)
ITEM_RULES: Mapping[str, tuple[str, ...]] = {
    "death": ("alive",),
    "new_vehicle": ("vehicles",),
    "new_property": ("homes",),
    "new_business": ("business_registrations",),
    "medical_out_of_pocket": ("medical_out_of_pocket",),
    "disaster_victim": ("disaster_loss",),
    "hukou_moved_out": ("hukou_region",),
    "birth": ("birth",),
    "marriage": ("marriage", "divorce"),
    "disability_certificate": ("disability_grade",),
    "unemployment_registration": ("unemployment_registered",),
}
RULES: tuple[str, ...] = (
    "death",
    "new_vehicle",
    "new_property",
    "new_business",
    "income_crosses_standard",
    "deposits_above_limit",
    "medical_out_of_pocket",
    "disaster_victim",
    "duplicate_payment",
    "hukou_moved_out",
    "birth",
    "marriage",
    "disability_certificate",
    "unemployment_registration",
)
THRESHOLD_RULES = frozenset({"medical_out_of_pocket", "disaster_victim"})
ACTIONS: Mapping[str, str] = {
    "stop_next_payment": "stop the next payment and start the termination procedure",
    "recheck_assets": "re-check the household's assets",
    "recheck_income": "re-check the household's income",
    "recheck_household": "re-check the household's members and registration",
    "candidate_temporary_assistance": "contact the household: candidate for temporary assistance",
    "candidate_medical_assistance": "contact the household: candidate for medical assistance",
    "candidate_assistance": "contact the person: candidate for disability support or dibao",
    "supervision": "supervision: check the payments and recover any paid wrongly",
}

ALERT_SCHEMA = pa.schema(
    [
        pa.field("rule", pa.string(), nullable=False),
        pa.field("severity", pa.string(), nullable=False),
        pa.field("county", pa.string(), nullable=False),
        pa.field("office", pa.string(), nullable=False),
        pa.field("action", pa.string(), nullable=False),
        pa.field("household_id", pa.int64(), nullable=False),
        pa.field("person_id", pa.int64()),  # null for an alert about the household
        pa.field("subject", pa.string(), nullable=False),  # person:ID or household:ID
        pa.field("month", pa.string(), nullable=False),  # YYYY-MM compared
        pa.field("raised_on", pa.date32(), nullable=False),
        pa.field("due_on", pa.date32(), nullable=False),
        pa.field("evidence", pa.string(), nullable=False),  # JSON, identity numbers masked
        # How a due date computed across a year with no official calendar yet was computed
        # (DeadlineBasis as JSON); null for a due date on official years only.
        pa.field("due_basis", pa.string()),
    ]
)
RECIPIENT_SCHEMA = pa.schema(
    [
        pa.field("county", pa.string(), nullable=False),
        pa.field("household_id", pa.int64(), nullable=False),
        pa.field("person_id", pa.int64(), nullable=False),
        pa.field("id_number", pa.string(), nullable=False),
        pa.field("program", pa.string(), nullable=False),
    ]
)


@dataclass(frozen=True)
class RuleSetting:
    """One rule's parameters in force for a county and a date."""

    rule: str
    enabled: bool
    scope: str  # recipients, monitored or everyone
    severity: str
    office: str
    sla: int  # working days
    action: str
    threshold: int | None = None  # fen
    exclusive: frozenset[frozenset[str]] = frozenset()


def rule_settings(
    on: dt.date,
    region: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
) -> dict[str, RuleSetting]:
    """Every rule's setting in force on ``on`` for ``region`` (dated, regional parameters)."""
    p = Params(on, region, None, overrides, fallbacks)
    out = {}
    for rule in RULES:
        base = P + rule + "."
        exclusive: frozenset[frozenset[str]] = frozenset()
        if rule == "duplicate_payment":
            pairs = p.table(base + "exclusive_programs")
            exclusive = frozenset(frozenset(k.split("+")) for k, v in pairs.items() if v)
        out[rule] = RuleSetting(
            rule=rule,
            enabled=p.flag(base + "enabled"),
            scope=p.choice(base + "scope"),
            severity=p.choice(base + "severity"),
            office=p.choice(base + "office"),
            sla=p.int(base + "sla"),
            action=p.choice(base + "action"),
            threshold=p.fen(base + "threshold") if rule in THRESHOLD_RULES else None,
            exclusive=exclusive,
        )
    return out


def _month_text(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _masked_reference(kind: str, reference: str | None) -> str | None:
    if reference is None or kind == "vehicles":  # plates are never echoed
        return None
    if kind in ("births", "marriages"):
        return mask_identity_number(reference)
    return reference


def _difference_evidence(row: Mapping[str, Any]) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "source": row["kind"],
        "item": row["item"],
        "unit": row["unit"],
        "declared": row["declared"],
        "found": row["found"],
    }
    if row["id_number"] is not None:
        evidence["id_number"] = mask_identity_number(row["id_number"])
    if row["event_date"] is not None:
        evidence["event_date"] = row["event_date"].isoformat()
    reference = _masked_reference(row["kind"], row["reference"])
    if reference is not None:
        evidence["reference"] = reference
    for name in ("code", "amount_fen"):
        if row[name] is not None:
            evidence[name] = row[name]
    return evidence


class _Builder:
    """Collects alert rows; the due date is computed once per distinct time limit."""

    def __init__(self, county: str, month: dt.date, raised_on: dt.date) -> None:
        self.county = county
        self.month = _month_text(month)
        self.raised_on = raised_on
        self.rows: list[dict[str, Any]] = []
        self.seen: set[tuple[str, str]] = set()
        self._due: dict[int, Deadline] = {}

    def due(self, sla: int) -> Deadline:
        if sla not in self._due:
            self._due[sla] = add_working_days(self.raised_on, sla)
        return self._due[sla]

    def due_basis(self, sla: int) -> str | None:
        due = self.due(sla)
        if not due.provisional or due.basis is None:
            return None
        return json.dumps(due.basis.to_json(), sort_keys=True)

    def add(
        self,
        s: RuleSetting,
        household_id: int,
        person_id: int | None,
        evidence: Mapping[str, Any],
        county: str | None = None,
    ) -> None:
        subject = f"person:{person_id}" if person_id is not None else f"household:{household_id}"
        if (s.rule, subject) in self.seen:
            return
        self.seen.add((s.rule, subject))
        self.rows.append(
            {
                "rule": s.rule,
                "severity": s.severity,
                "county": county or self.county,
                "office": s.office,
                "action": s.action,
                "household_id": household_id,
                "person_id": person_id,
                "subject": subject,
                "month": self.month,
                "raised_on": self.raised_on,
                "due_on": self.due(s.sla),
                "evidence": json.dumps(evidence, ensure_ascii=False, sort_keys=True),
                "due_basis": self.due_basis(s.sla),
            }
        )

    def table(self) -> pa.Table:
        if not self.rows:
            return ALERT_SCHEMA.empty_table()
        return pa.Table.from_pylist(self.rows, schema=ALERT_SCHEMA)


def _in_scope(scope: str, table: pa.Table) -> pa.Table:
    if scope == "recipients":
        return table.filter(pc.field("is_recipient"))
    if scope == "monitored":
        return table.filter(pc.field("is_monitored"))
    return table


def raise_alerts(
    comparison: Comparison,
    raised_on: dt.date,
    *,
    overrides: Mapping[str, Any] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
) -> pa.Table:
    """The alerts one county's comparison raises (``ALERT_SCHEMA``), under the rules in force on
    ``raised_on`` for the county; due dates are ``raised_on`` plus each rule's working days."""
    settings = rule_settings(raised_on, comparison.county, overrides=overrides, fallbacks=fallbacks)
    out = _Builder(comparison.county, comparison.month, raised_on)
    diffs = comparison.differences
    for rule, items in ITEM_RULES.items():
        s = settings[rule]
        if not s.enabled:
            continue
        chosen = diffs.filter(pc.is_in(pc.field("item"), pa.array(items)))
        chosen = _in_scope(s.scope, chosen)
        if s.threshold is not None:
            chosen = chosen.filter(pc.field("found") >= s.threshold)
        for row in chosen.to_pylist():
            out.add(s, row["household_id"], row["person_id"], _difference_evidence(row))
    _standard_rules(comparison, settings, out)
    return out.table()


def _standard_rules(
    comparison: Comparison, settings: Mapping[str, RuleSetting], out: _Builder
) -> None:
    """Income across the standard and deposits above the limit: read from the dibao tests of the
    declared and the feed-corrected evaluations (deposits: the asset test on financial assets
    alone, so a household whose car already fails the test is still told about its deposits)."""
    tests = comparison.standard_tests
    if tests.num_rows == 0:
        return
    scope = _household_scope(comparison)
    deposits = comparison.differences.filter(pc.field("item") == "financial_assets").to_pydict()
    deposit_found = dict(zip(deposits["household_id"], deposits["found"], strict=True))
    deposit_declared = dict(zip(deposits["household_id"], deposits["declared"], strict=True))
    amounts = _dibao_effects(comparison)

    def wanted(s: RuleSetting, household: int) -> bool:
        recipient, monitored = scope.get(household, (False, False))
        return s.enabled and (
            s.scope == "everyone"
            or (s.scope == "monitored" and monitored)
            or (s.scope == "recipients" and recipient)
        )

    income, assets = settings["income_crosses_standard"], settings["deposits_above_limit"]
    for row in tests.to_pylist():
        h = row["household_id"]
        de, da, fe, fa = amounts.get(h, (False, 0, False, 0))
        dibao_effect = {
            "declared_eligible": de,
            "declared_amount_fen": da,
            "found_eligible": fe,
            "found_amount_fen": fa,
        }
        crossed = row["declared_below_standard"] != row["found_below_standard"]
        if crossed and row["found_members"] > 0 and wanted(income, h):
            direction = "below" if row["found_below_standard"] else "above"
            out.add(
                income,
                h,
                None,
                {
                    "direction": direction,
                    "standard_fen": row["standard_fen"],
                    "members": row["found_members"],
                    "declared_per_capita_fen": row["declared_per_capita_fen"],
                    "found_per_capita_fen": row["found_per_capita_fen"],
                    "dibao": dibao_effect,
                },
            )
        if (
            h in deposit_found
            and row["declared_financial_ok"]
            and not row["found_financial_ok"]
            and wanted(assets, h)
        ):
            out.add(
                assets,
                h,
                None,
                {
                    "source": "bank_deposits",
                    "declared_financial_assets_fen": deposit_declared[h],
                    "found_deposits_fen": deposit_found[h],
                    "dibao": dibao_effect,
                },
            )


def _household_scope(comparison: Comparison) -> dict[int, tuple[bool, bool]]:
    """household → (a recipient, monitored), from the comparison's differences."""
    flags = (
        comparison.differences.group_by("household_id")
        .aggregate([("is_recipient", "max"), ("is_monitored", "max")])
        .to_pydict()
    )
    return {
        h: (bool(r), bool(m))
        for h, r, m in zip(
            flags["household_id"], flags["is_recipient_max"], flags["is_monitored_max"], strict=True
        )
    }


def _dibao_effects(comparison: Comparison) -> dict[int, tuple[bool, int, bool, int]]:
    """household → dibao (declared eligible, declared amount, found eligible, found amount)."""
    dibao = comparison.effects.filter(pc.field("program") == "dibao").to_pydict()
    return {
        h: (bool(de), da, bool(fe), fa)
        for h, de, da, fe, fa in zip(
            dibao["household_id"],
            dibao["declared_eligible"],
            dibao["declared_amount_fen"],
            dibao["found_eligible"],
            dibao["found_amount_fen"],
            strict=True,
        )
    }


# -- across counties -----------------------------------------------------------------------------


def recipients_of(data: CountyData, programs: Iterable[str] | None = None) -> pa.Table:
    """Who is paid in this county now, for each monitored program (``ProgramInfo.monitored``,
    or ``programs``): every member of a recipient household, or each recipient person
    (``RECIPIENT_SCHEMA``), for the step across counties."""
    pop = data.population
    if data.id_number is None:
        return RECIPIENT_SCHEMA.empty_table()
    ids = np.asarray(data.id_number).astype(str)
    chosen = monitored_programs() if programs is None else tuple(programs)
    parts = []
    masks = {pid: program(pid).info.recipient_persons(pop) for pid in chosen}
    for pid, mask in masks.items():
        rows = np.flatnonzero(mask)
        parts.append(
            pa.table(
                {
                    "county": pa.repeat(pa.scalar(data.county, pa.string()), len(rows)),
                    "household_id": data.household_id[pop.household_of[rows]],
                    "person_id": data.person_id[rows],
                    "id_number": ids[rows],
                    "program": pa.repeat(pa.scalar(pid, pa.string()), len(rows)),
                },
                schema=RECIPIENT_SCHEMA,
            )
        )
    return pa.concat_tables(parts) if parts else RECIPIENT_SCHEMA.empty_table()


def duplicate_alerts(
    recipients: Iterable[pa.Table],
    month: dt.date,
    raised_on: dt.date,
    *,
    overrides: Mapping[str, Any] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
) -> pa.Table:
    """``duplicate_payment`` alerts over every county's recipients: a person paid in two counties,
    or by two programs the county's parameters call exclusive. One alert per county where the
    person is paid (each county's office acts on its own payment)."""

    tables = [t for t in recipients if t.num_rows]
    if not tables:
        return ALERT_SCHEMA.empty_table()
    frame = pl.from_arrow(pa.concat_tables(tables))
    assert isinstance(frame, pl.DataFrame)
    groups = frame.group_by("id_number").agg(counties=pl.col("county").n_unique(), entries=pl.len())
    suspects = groups.filter((pl.col("counties") > 1) | (pl.col("entries") > 1))["id_number"]
    rows = frame.filter(pl.col("id_number").is_in(suspects.implode())).sort(
        "id_number", "county", "program"
    )
    by_person: dict[str, list[dict[str, Any]]] = {}
    for row in rows.iter_rows(named=True):
        by_person.setdefault(row["id_number"], []).append(row)
    settings: dict[str, RuleSetting] = {}
    builders: dict[str, _Builder] = {}
    for number, entries in by_person.items():
        counties = sorted({e["county"] for e in entries})
        programs = sorted({e["program"] for e in entries})
        for entry in entries:
            county = entry["county"]
            if county not in settings:
                settings[county] = rule_settings(
                    raised_on, county, overrides=overrides, fallbacks=fallbacks
                )["duplicate_payment"]
            s = settings[county]
            exclusive = [
                sorted(pair) for pair in s.exclusive if pair <= {e["program"] for e in entries}
            ]
            if not s.enabled or (len(counties) < 2 and not exclusive):
                continue
            builder = builders.setdefault(county, _Builder(county, month, raised_on))
            builder.add(
                s,
                entry["household_id"],
                entry["person_id"],
                {
                    "id_number": mask_identity_number(number),
                    "counties": counties,
                    "programs": programs,
                    "exclusive_pairs": ["+".join(p) for p in sorted(exclusive)],
                },
            )
    parts = [b.table() for _, b in sorted(builders.items())]
    return pa.concat_tables(parts) if parts else ALERT_SCHEMA.empty_table()


def alert_counts(alerts: pa.Table) -> list[tuple[str, str, int]]:
    """(county, rule, alerts) for every county and rule with at least one alert, sorted."""
    if alerts.num_rows == 0:
        return []
    grouped = alerts.group_by(["county", "rule"]).aggregate([("rule", "count")]).to_pydict()
    rows = zip(grouped["county"], grouped["rule"], grouped["rule_count"], strict=True)
    return sorted((c, r, int(n)) for c, r, n in rows)


# -- storage and lifecycle (registry) ------------------------------------------------------------

RECHECK_ACTIONS = frozenset({"recheck_assets", "recheck_income", "recheck_household"})
STOP_ACTION = "stop_next_payment"


@dataclass
class StoreCounts:
    """What storing one run's alerts did, per (county, rule)."""

    raised: dict[tuple[str, str], int] = field(default_factory=dict)  # new rows
    repeated: int = 0  # already stored for this month (a re-run)
    still_open: int = 0  # the same rule and subject is still open from an earlier month
    holds_placed: int = 0  # payment holds placed by new stop_next_payment alerts

    def rows(self) -> list[tuple[str, str, int]]:
        return sorted((c, r, n) for (c, r), n in self.raised.items())


def store_alerts(
    uow: UnitOfWork,
    alerts: pa.Table,
    *,
    actor: Actor,
    clock: Callable[[], dt.datetime],
) -> StoreCounts:
    """Insert the alerts that are new, in the caller's transaction, with one audit entry.

    A row whose (rule, subject, month) exists is a repeat of an earlier run and is skipped, as is
    one whose rule and subject have an alert not yet resolved from an earlier month. The new
    alerts whose action is ``stop_next_payment`` are published at once, in one ``AlertsStored``
    on ``uow`` (a unit of work of the bus): payments places their holds (each with its own
    audit entry) before this returns, and a re-run stores no alert, so no second hold.
    """
    session = uow.session
    counts = StoreCounts()
    if alerts.num_rows == 0:
        return counts
    now = clock()
    rows = alerts.to_pylist()
    known, open_before = _stored_before(session, rows)
    new = _new_rows(rows, known, open_before, counts, now)
    if new:
        session.execute(insert(Alert), new)
    counts.holds_placed = _publish_stops(uow, new, actor, now)
    append(
        session,
        actor=actor,
        command="RaiseAlerts",
        event="AlertsRaised",
        entity="monitoring_alerts",
        entity_id=",".join(sorted({r["month"] for r in rows})),
        after={
            "raised": [[c, r, n] for c, r, n in counts.rows()],
            "repeated": counts.repeated,
            "still_open": counts.still_open,
            "holds_placed": counts.holds_placed,
        },
        occurred_at=now,
    )
    return counts


def _stored_before(
    session: Session, rows: list[dict[str, Any]]
) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
    """Of the rows' subjects: the (rule, subject, month) stored, and the (rule, subject) with an
    alert not yet resolved."""
    subjects = sorted({r["subject"] for r in rows})
    known: set[tuple[str, str, str]] = set()
    open_before: set[tuple[str, str]] = set()
    for start in range(0, len(subjects), 900):
        part = subjects[start : start + 900]
        for rule, subject, month, status in session.execute(
            select(Alert.rule, Alert.subject, Alert.month, Alert.status).where(
                Alert.subject.in_(part)
            )
        ):
            known.add((rule, subject, month))
            if status != "resolved":
                open_before.add((rule, subject))
    return known, open_before


def _new_rows(
    rows: list[dict[str, Any]],
    known: set[tuple[str, str, str]],
    open_before: set[tuple[str, str]],
    counts: StoreCounts,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The rows to insert (neither a repeat nor still open), counted in ``counts``."""
    new = []
    recounted: dict[str, Deadline] = {}
    for r in rows:
        if (r["rule"], r["subject"], r["month"]) in known:
            counts.repeated += 1
            continue
        if (r["rule"], r["subject"]) in open_before:
            counts.still_open += 1
            continue
        known.add((r["rule"], r["subject"], r["month"]))
        key = (r["county"], r["rule"])
        counts.raised[key] = counts.raised.get(key, 0) + 1
        basis = r.pop("due_basis", None)
        if basis:
            # Counted again on the calendar in force now: the table may have been raised before
            # a year was added (a resumed cycle's Parquet), and a stored date must not differ.
            if basis not in recounted:
                recounted[basis] = DeadlineBasis.from_json(json.loads(basis)).compute()
            due = recounted[basis]
            r["due_on"] = due
            basis = json.dumps(due.basis.to_json()) if due.provisional and due.basis else None
        new.append(
            {
                **r,
                "evidence": json.loads(r["evidence"]),
                # Bulk inserts bypass the model listener that marks tracks' deadlines: marked here.
                "provisional_deadlines": {"due_on": json.loads(basis)} if basis else None,
                "status": "open",
                "created_at": now,
                "version": 1,
            }
        )
    return new


def _publish_stops(
    uow: UnitOfWork, new: list[dict[str, Any]], actor: Actor, now: dt.datetime
) -> int:
    """Publish the new stop_next_payment alerts in one ``AlertsStored``; the holds placed."""
    stops = {(r["rule"], r["subject"], r["month"]) for r in new if r["action"] == STOP_ACTION}
    if not stops:
        return 0
    found = []
    for alert_id, rule, subject, household_id, month in uow.session.execute(
        select(Alert.id, Alert.rule, Alert.subject, Alert.household_id, Alert.month)
        .where(
            Alert.action == STOP_ACTION,
            Alert.subject.in_(sorted({subject for _, subject, _ in stops})),
            Alert.month.in_(sorted({month for _, _, month in stops})),
        )
        .order_by(Alert.id)
    ).all():
        if (rule, subject, month) not in stops:
            continue  # stored by an earlier run
        reason = f"monitoring alert {alert_id} ({rule}, {month}): {ACTIONS[STOP_ACTION]}"
        found.append(PaymentStop(alert_id, household_id, month, reason))
    event = AlertsStored(tuple(found), actor, now)
    uow.emit(event)
    uow.publish()  # the holds are placed now, so that the run's audit entry counts them
    return len(event.holds_placed)


@dataclass(frozen=True, kw_only=True)
class AssignAlert:
    """Give an open (or assigned) alert to a user, optionally moving it to another office."""

    alert_id: int
    assignee: str
    actor: Actor
    on: dt.date
    office: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class ResolveAlert:
    """Close an alert with an outcome of ``OUTCOMES``; a dismissal gives its reason."""

    alert_id: int
    outcome: str
    actor: Actor
    on: dt.date
    reason: str = ""
    expected_version: int | None = None


def _state(alert: Alert) -> dict[str, Any]:
    return {
        "status": alert.status,
        "office": alert.office,
        "assigned_to": alert.assigned_to,
        "outcome": alert.outcome,
        "resolution_reason": alert.resolution_reason,
        "resolved_on": None if alert.resolved_on is None else alert.resolved_on.isoformat(),
        "track_id": alert.track_id,
    }


def _load(session: Session, alert_id: int, expected: int | None) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise UnknownNameError("alert", str(alert_id))
    if expected is not None and alert.version != expected:
        raise InputError(
            "expected_version",
            f"alert {alert_id} is at version {alert.version}, not {expected}: it has changed",
        )
    return alert


def assign_alert(cmd: AssignAlert, uow: UnitOfWork, clock: Callable[[], dt.datetime]) -> int:
    """One transaction with its audit entry; returns the alert's new version."""
    session = uow.session
    alert = _load(session, cmd.alert_id, cmd.expected_version)
    if alert.status == "resolved":
        raise InputError("alert", f"alert {alert.id} is resolved and cannot be assigned")
    assignee = cmd.assignee.strip()
    if not assignee:
        raise InputError("assignee", "name who the alert is assigned to")
    if cmd.office is not None:
        offices = Params(cmd.on, alert.county).tree.spec(P + alert.rule + ".office").choices
        if cmd.office not in offices:
            raise InputError("office", f"{cmd.office!r} is not one of {list(offices)}")
    if cmd.on < alert.raised_on:
        raise InputError("on", f"{cmd.on} is before the alert was raised ({alert.raised_on})")
    before = _state(alert)
    alert.status = "assigned"
    alert.assigned_to = assignee
    alert.assigned_on = cmd.on
    if cmd.office is not None:
        alert.office = cmd.office
    session.flush()
    append(
        session,
        actor=cmd.actor,
        command="AssignAlert",
        event="AlertAssigned",
        entity="monitoring_alert",
        entity_id=alert.id,
        before=before,
        after={**_state(alert), "assigned_on": cmd.on.isoformat()},
        occurred_at=clock(),
    )
    version = alert.version
    uow.commit()
    return version


def resolve_alert(cmd: ResolveAlert, uow: UnitOfWork, clock: Callable[[], dt.datetime]) -> int:
    """One transaction with its audit entry; returns the alert's new version. ``AlertResolved``
    is published in it: resolved ``recheck_started``, an alert asking for a re-check of income,
    assets or the household opens one on the household's paying case track (cases), which links
    the alert to that track; dismissed, the payment hold it placed is released (payments, with
    the release's own audit entry); any other outcome keeps the hold."""
    alert = _load(uow.session, cmd.alert_id, cmd.expected_version)
    _resolve(uow, alert, cmd, clock())
    uow.publish()  # the followers' changes (a link to a track) are in the version returned
    session_version = alert.version
    uow.commit()
    return session_version


def resolve_in(uow: UnitOfWork, alert: Alert, cmd: ResolveAlert, now: dt.datetime) -> None:
    """Resolve ``alert`` in the caller's transaction (a follower of another area's event), with
    its audit entry and ``AlertResolved``."""
    _resolve(uow, alert, cmd, now)


def _resolve(
    uow: UnitOfWork, alert: Alert, cmd: ResolveAlert, now: dt.datetime, track_id: int | None = None
) -> None:
    """Check and resolve the alert with its audit entry, and emit ``AlertResolved``."""
    session = uow.session
    if alert.status == "resolved":
        raise InputError("alert", f"alert {alert.id} is already resolved ({alert.outcome})")
    if cmd.outcome not in OUTCOMES:
        raise InputError("outcome", f"{cmd.outcome!r} is not one of {list(OUTCOMES)}")
    reason = cmd.reason.strip()
    if cmd.outcome == "dismissed" and not reason:
        raise InputError("reason", "a dismissal gives its reason")
    if cmd.on < alert.raised_on:
        raise InputError("on", f"{cmd.on} is before the alert was raised ({alert.raised_on})")
    before = _state(alert)
    alert.status = "resolved"
    alert.outcome = cmd.outcome
    alert.resolution_reason = reason or None
    alert.resolved_on = cmd.on
    alert.resolved_by = cmd.actor.name
    alert.track_id = track_id
    session.flush()
    append(
        session,
        actor=cmd.actor,
        command="ResolveAlert",
        event="AlertResolved",
        entity="monitoring_alert",
        entity_id=alert.id,
        before=before,
        after=_state(alert),
        occurred_at=now,
    )
    opens = cmd.outcome == "recheck_started" and alert.action in RECHECK_ACTIONS
    uow.emit(
        AlertResolved(
            alert_id=alert.id,
            household_id=alert.household_id,
            outcome=cmd.outcome,
            reason=reason,
            actor=cmd.actor,
            on=cmd.on,
            occurred_at=now,
            opens_recheck=opens and track_id is None,
            recheck_reason=f"monitoring alert {alert.id} ({alert.rule}, {alert.month}): "
            f"{ACTIONS.get(alert.action, alert.action)}",
        )
    )


class OpenedRecheck(Protocol):
    """What ``resolve_alert_of_recheck`` reads of the case workflow's ``RecheckOpened``."""

    @property
    def alert_id(self) -> int: ...
    @property
    def track_id(self) -> int: ...
    @property
    def actor(self) -> Actor: ...
    @property
    def on(self) -> dt.date: ...
    @property
    def reason(self) -> str: ...
    @property
    def occurred_at(self) -> dt.datetime: ...


def resolve_alert_of_recheck(event: OpenedRecheck, uow: UnitOfWork) -> None:
    """Follows ``RecheckOpened``: an alert still open or assigned is resolved ``recheck_started``
    on the re-check's track (its own audit entry); one already resolved so without a track (the
    re-check was opened by its resolution) is linked to the track (audit entry
    ``AlertLinkedToTrack``)."""
    alert = _load(uow.session, event.alert_id, None)
    if alert.status != "resolved":
        cmd = ResolveAlert(
            alert_id=alert.id,
            outcome="recheck_started",
            actor=event.actor,
            on=event.on,
            reason=event.reason,
        )
        _resolve(uow, alert, cmd, event.occurred_at, track_id=event.track_id)
        return
    if alert.outcome != "recheck_started" or alert.track_id is not None:
        return  # the case workflow refuses a re-check of any other alert
    before = _state(alert)
    alert.track_id = event.track_id
    uow.session.flush()
    append(
        uow.session,
        actor=event.actor,
        command="OpenRecheck",
        event="AlertLinkedToTrack",
        entity="monitoring_alert",
        entity_id=alert.id,
        before=before,
        after=_state(alert),
        occurred_at=event.occurred_at,
    )


class Counts(Protocol):
    recomputed: int
    moved: int
    still: int


class ChangedCalendar(Protocol):
    """What ``recompute_alert_dues`` reads of the case workflow's ``CalendarChanged``."""

    @property
    def command(self) -> str: ...
    @property
    def actor(self) -> Actor: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def counts(self) -> Counts: ...


def recompute_alert_dues(event: ChangedCalendar, uow: UnitOfWork) -> None:
    """Follows ``CalendarChanged``: every alert's provisional due date computed again on the
    calendar now in force; each one whose date or mark changes is written and audited
    (``DeadlineRecomputed``), and counted in the event's counts."""
    counts = event.counts
    alerts = uow.session.scalars(
        select(Alert).where(Alert.provisional_deadlines.is_not(None)).order_by(Alert.id)
    )
    for alert in alerts:
        raw = (alert.provisional_deadlines or {}).get("due_on")
        if raw is None:
            continue
        old = alert.due_on
        new = DeadlineBasis.from_json(raw).compute()
        counts.still += new.provisional
        if new.provisional and new == old:
            continue  # another year still without a notice; nothing changed
        counts.recomputed += 1
        counts.moved += new != old
        alert.due_on = new
        # Alerts are bulk-inserted and have no listener keeping their marks.
        basis = new.basis.to_json() if new.provisional and new.basis is not None else None
        alert.provisional_deadlines = {"due_on": basis} if basis else None
        append(
            uow.session,
            actor=event.actor,
            command=event.command,
            event="DeadlineRecomputed",
            entity=Alert.__tablename__,
            entity_id=alert.id,
            before={"due_on": old.isoformat(), "provisional": True},
            after={"due_on": new.isoformat(), "provisional": new.provisional},
            occurred_at=event.occurred_at,
        )


def list_alerts(
    session: Session,
    *,
    office: str | None = None,
    county: str | None = None,
    overdue_on: dt.date | None = None,
    include_resolved: bool = False,
    limit: int = 500,
) -> list[Alert]:
    """Alerts by office, due date and id; ``overdue_on``: only those not resolved and due before
    that day."""
    query = select(Alert).order_by(Alert.office, Alert.due_on, Alert.id).limit(limit)
    if office is not None:
        query = query.where(Alert.office == office)
    if county is not None:
        query = query.where(Alert.county == county)
    if overdue_on is not None:
        query = query.where(Alert.status != "resolved", Alert.due_on < overdue_on)
    elif not include_resolved:
        query = query.where(Alert.status != "resolved")
    return list(session.scalars(query))


def overdue_by_office(session: Session, on: dt.date) -> list[tuple[str, int]]:
    """(office, overdue alerts) on ``on``: not resolved and due before that day."""
    rows = session.execute(
        select(Alert.office, func.count())
        .where(Alert.status != "resolved", Alert.due_on < on)
        .group_by(Alert.office)
        .order_by(Alert.office)
    )
    return [(office, int(n)) for office, n in rows]
