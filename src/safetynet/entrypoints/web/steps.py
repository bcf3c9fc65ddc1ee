"""The steps a person takes on a track from its page: for each, the policy action it needs, the
fields of its form, and how the form becomes the workflow's command. Which steps are offered in
which state is only what the page shows; the workflow decides whether a step is allowed (and
says why not)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from safetynet.audit.log import Actor
from safetynet.cases import commands as c
from safetynet.cases.workflow import State
from safetynet.entrypoints.api.policy import Action
from safetynet.errors import InputError
from safetynet.policy.calculate import parse_date

__all__ = [
    "STEPS",
    "STEPS_IN_STATE",
    "Field",
    "Step",
    "appeal_decision",
    "build_command",
    "declared_facts",
    "lines",
    "parse_date",
]


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "text"  # text, textarea, date, select, checkbox
    choices: tuple[str, ...] = ()
    required: bool = True


@dataclass(frozen=True)
class Step:
    name: str
    action: Action
    fields: tuple[Field, ...]
    build: Callable[[Mapping[str, str], Actor, dt.date, int, int], c.Command] | None
    danger: bool = False


def _text(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise InputError(name, "is required / 必填")
    return value


def lines(form: Mapping[str, str], name: str) -> tuple[str, ...]:
    items = tuple(
        p.strip() for p in form.get(name, "").replace("，", ",").replace("\n", ",").split(",")
    )
    found = tuple(p for p in items if p)
    if not found:
        raise InputError(name, "is required / 必填")
    return found


def _date(form: Mapping[str, str], name: str, default: dt.date | None = None) -> dt.date:
    value = form.get(name, "").strip()
    if not value and default is not None:
        return default
    return parse_date(value, name)


def _on(form: Mapping[str, str], today: dt.date) -> dt.date:
    return _date(form, "on", today)


ON = Field("on", "date")


def _start_investigation(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    return c.StartInvestigation(
        actor=a, on=_on(f, t), track_id=tid, expected_version=v, investigators=lines(f, "team")
    )


def _home_visit(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    return c.RecordHomeVisit(
        actor=a, on=_on(f, t), track_id=tid, expected_version=v, visitors=lines(f, "team"),
        level="county" if a.role == "county_approver" else "township",
        notes=f.get("notes", "").strip(),
    )  # fmt: skip


def _verification(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    verified = {k.removeprefix("v:"): val.strip() for k, val in f.items() if k.startswith("v:")}
    report = {"verified": verified, "findings": f.get("findings", "").strip()}
    on = _on(f, t)
    return c.AttachVerificationReport(
        actor=a, on=on, track_id=tid, expected_version=v, report=report,
        cross_check_requested_on=_date(f, "cross_check_requested_on", on),
    )  # fmt: skip


def _opinion(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    proposal = f.get("proposal", "")
    if proposal not in ("approve", "refuse"):
        raise InputError("proposal", "choose approve or refuse / 请选择同意或不同意")
    return c.GiveTownshipOpinion(
        actor=a, on=_on(f, t), track_id=tid, expected_version=v,
        proposal="approve" if proposal == "approve" else "refuse", reasons=lines(f, "reasons"),
    )  # fmt: skip


def _post_notice(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    return c.PostPublicNotice(actor=a, on=_on(f, t), track_id=tid, expected_version=v)


def _objection(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    return c.RecordObjection(
        actor=a, on=_on(f, t), track_id=tid, expected_version=v, summary=_text(f, "summary")
    )


def _close_notice(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    on = _on(f, t)
    return c.ClosePublicNotice(
        actor=a, on=on, track_id=tid, expected_version=v,
        county_received_on=_date(f, "county_received_on", on),
    )  # fmt: skip


def _confirm(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    return c.ConfirmTrack(actor=a, on=_on(f, t), track_id=tid, expected_version=v)


def _refuse(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    return c.RefuseTrack(
        actor=a, on=_on(f, t), track_id=tid, expected_version=v, reasons=lines(f, "reasons")
    )


def _notify(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    return c.NotifyRefusal(actor=a, on=_on(f, t), track_id=tid, expected_version=v)


def _start_payment(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    return c.StartPayment(actor=a, on=_on(f, t), track_id=tid, expected_version=v)


def _appeal(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    kind = f.get("kind", "")
    if kind not in ("reconsideration", "litigation"):
        raise InputError("kind", "choose reconsideration or litigation / 请选择复议或诉讼")
    return c.LodgeAppeal(
        actor=a, on=_on(f, t), track_id=tid, expected_version=v,
        kind="reconsideration" if kind == "reconsideration" else "litigation",
        decision_known_on=_date(f, "decision_known_on"), grounds=_text(f, "grounds"),
    )  # fmt: skip


def _extend(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    return c.ExtendTimeLimit(
        actor=a, on=_on(f, t), track_id=tid, expected_version=v, reason=_text(f, "reason")
    )


def _recheck(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    return c.RecordRecheck(
        actor=a, on=_on(f, t), track_id=tid, expected_version=v,
        frequency="half_yearly" if f.get("frequency") == "half_yearly" else "annual",
        findings=_text(f, "findings"),
    )  # fmt: skip


def _suspend(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    return c.SuspendTrack(
        actor=a, on=_on(f, t), track_id=tid, expected_version=v, reason=_text(f, "reason")
    )


def _terminate(f: Mapping[str, str], a: Actor, t: dt.date, tid: int, v: int) -> c.Command:
    return c.TerminateTrack(
        actor=a, on=_on(f, t), track_id=tid, expected_version=v, reason=_text(f, "reason")
    )


TEAM = Field("team", "textarea")
STEPS: Mapping[str, Step] = {
    s.name: s
    for s in (
        Step("accept", Action.ACCEPT, (ON,), None),
        Step("start-investigation", Action.START_INVESTIGATION, (ON, TEAM), _start_investigation),
        Step("home-visit", Action.HOME_VISIT, (ON, TEAM, Field("notes", "textarea", required=False)), _home_visit),
        Step("verification", Action.VERIFICATION, (ON, Field("cross_check_requested_on", "date", required=False), Field("findings", "textarea", required=False)), _verification),
        Step("township-opinion", Action.TOWNSHIP_OPINION, (ON, Field("proposal", "select", ("approve", "refuse")), Field("reasons", "textarea")), _opinion),
        Step("post-notice", Action.POST_NOTICE, (ON,), _post_notice),
        Step("objection", Action.OBJECTION, (ON, Field("summary", "textarea")), _objection),
        Step("close-notice", Action.CLOSE_NOTICE, (ON, Field("county_received_on", "date", required=False)), _close_notice),
        Step("confirm", Action.CONFIRM, (ON,), _confirm),
        Step("refuse", Action.REFUSE, (ON, Field("reasons", "textarea")), _refuse, danger=True),
        Step("notify-refusal", Action.REFUSE, (ON,), _notify),
        Step("start-payment", Action.START_PAYMENT, (ON,), _start_payment),
        Step("appeal", Action.LODGE_APPEAL, (ON, Field("kind", "select", ("reconsideration", "litigation")), Field("decision_known_on", "date"), Field("grounds", "textarea")), _appeal),
        Step("extend-limit", Action.EXTEND_LIMIT, (ON, Field("reason", "textarea")), _extend),
        Step("recheck", Action.RECORD_RECHECK, (ON, Field("frequency", "select", ("annual", "half_yearly")), Field("findings", "textarea")), _recheck),
        Step("suspend", Action.SUSPEND, (ON, Field("reason", "textarea")), _suspend, danger=True),
        Step("terminate", Action.TERMINATE, (ON, Field("reason", "textarea")), _terminate, danger=True),
    )
}  # fmt: skip
"""Every step a track page offers, by the name in its URL (``/tracks/{id}/{name}``)."""

_OPEN_LIMIT = ("extend-limit",)
STEPS_IN_STATE: Mapping[str, tuple[str, ...]] = {
    State.SUBMITTED: ("accept",),
    State.ACCEPTED: ("start-investigation", *_OPEN_LIMIT),
    State.ADVANCE_PAID: ("start-investigation",),
    State.INVESTIGATING: ("home-visit", "verification", *_OPEN_LIMIT),
    State.VERIFIED: ("township-opinion", "confirm", "refuse", *_OPEN_LIMIT),
    State.TOWNSHIP_OPINION: ("post-notice", "confirm", "refuse", *_OPEN_LIMIT),
    State.NOTICE_POSTED: ("objection", "close-notice"),
    State.NOTICE_CLOSED: ("home-visit", "confirm", "refuse", *_OPEN_LIMIT),
    State.APPROVED: ("start-payment", "appeal"),
    State.REFUSED: ("notify-refusal", "appeal"),
    State.PAYING: ("recheck", "suspend", "terminate", "appeal"),
    State.SUSPENDED: ("recheck", "terminate", "appeal"),
    State.GRADUAL_EXIT: ("recheck", "terminate"),
    State.TERMINATED: ("appeal",),
}
"""The step forms a track's page shows in each state (to the roles whose policy allows them)."""


_OUTCOMES = ("upheld", "varied", "revoked", "dismissed")
_REOPEN = ("investigation", "township_opinion", "decision", "payment")


def appeal_decision(
    form: Mapping[str, str], actor: Actor, today: dt.date, appeal_id: int
) -> c.DecideAppeal:
    """The appeal's outcome from its form (``InputError`` for a value not offered)."""
    outcome = form.get("outcome", "")
    reopen = form.get("reopen_at", "")
    if outcome not in _OUTCOMES:
        raise InputError("outcome", f"choose one of {', '.join(_OUTCOMES)}")
    if reopen and reopen not in _REOPEN:
        raise InputError("reopen_at", f"choose one of {', '.join(_REOPEN)}")
    return c.DecideAppeal(
        actor=actor,
        on=_on(form, today),
        appeal_id=appeal_id,
        outcome=outcome,  # type: ignore[arg-type]  # checked against the offered values above
        reasons=lines(form, "reasons"),
        reopen_at=reopen or None,  # type: ignore[arg-type]
    )


def build_command(
    step: Step, form: Mapping[str, str], actor: Actor, today: dt.date, track_id: int, version: int
) -> c.Command:
    """The step's command from its form (``InputError`` naming the field if a value is bad)."""
    assert step.build is not None  # accept goes through the service's own method
    return step.build(form, actor, today, track_id, version)


def declared_facts(household: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The household's declared facts flattened to (path, value): the amounts and counts a
    verification report checks, member by member."""
    out: list[tuple[str, str]] = []
    for key, value in household.items():
        if key in {"members", "region", "household_id"}:
            continue
        out.append((key, str(value)))
    for i, member in enumerate(household.get("members", [])):
        for key, value in member.items():
            if key in {"id_number", "name", "relation", "birth_date", "sex"}:
                continue
            out.append((f"members[{i}].{key}", str(value)))
    return out
