"""Citizens sign in with their identity number and a one-time code sent to their phone (issue 13).

``RequestSignInCode`` looks the person up in the registry, refuses when a code was sent too
recently or too many codes were sent in the last hour (``SignInRules``), draws a random code,
keeps only its salted scrypt hash (``citizen_sign_in_codes``), sends it through the configured
``SmsSender`` and writes ``SignInCodeSent`` to the audit log. ``VerifySignInCode`` checks the code
against the person's latest code: a wrong code counts an attempt (``SignInFailed``), and a code
used, expired or tried ``max_attempts`` times signs no one in; the right code marks the code used
and returns a ``Citizen`` (the person and their household: ``CitizenSignedIn``). Each command is
one transaction through the unit of work. Nothing shows the code or the number unmasked but the
SMS itself: logs and audit entries mask the identity number and the phone, and the development
sender logs the code only with the masked phone.

The SMS gateway is an adapter behind ``SmsSender``: ``HttpSmsGateway`` posts JSON to the URL of
an operator's gateway (``SAFETYNET_SMS_URL`` and ``SAFETYNET_SMS_TOKEN``, ``sms_sender_from_env``);
``DevelopmentSms`` keeps the messages in memory and logs them, for development and tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import mask_identity_number, parse_identity_number
from safetynet.errors import InputError, SafetyNetError
from safetynet.registry.citizen_model import CitizenSession, SignInCode
from safetynet.registry.model import Membership, Person

__all__ = [
    "Citizen",
    "DevelopmentSms",
    "EndCitizenSession",
    "HttpSmsGateway",
    "RequestSignInCode",
    "SignInCodeSent",
    "SignInRefusedError",
    "SignInRules",
    "SmsError",
    "SmsSender",
    "VerifySignInCode",
    "citizen_of_session",
    "end_citizen_session",
    "mask_phone",
    "request_sign_in_code",
    "sms_sender_from_env",
    "verify_sign_in_code",
]

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
CITIZEN_ROLE = "citizen"


class SignInRefusedError(SafetyNetError):
    """A code cannot be sent or does not sign the person in; the message says why, in Chinese
    first and English second."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh = zh
        self.en = en
        super().__init__(f"{zh} / {en}")


class SmsError(SafetyNetError):
    """The SMS gateway did not take the message."""


class SmsSender(Protocol):
    """Sends one text message to a mobile number."""

    def send(self, phone: str, message: str) -> None: ...


def mask_phone(phone: str) -> str:
    """``138****5678``: the first 3 and the last 4 digits."""
    digits = phone.strip()
    return digits[:3] + "*" * max(len(digits) - 7, 0) + digits[-4:] if len(digits) > 7 else "***"


@dataclass
class DevelopmentSms:
    """Keeps the messages (``outbox``) and logs them with the phone masked: the development
    server's sign-in page shows the last code sent from here."""

    outbox: list[tuple[str, str]] = field(default_factory=list)

    def send(self, phone: str, message: str) -> None:
        self.outbox.append((phone, message))
        log.info("development SMS to %s: %s", mask_phone(phone), message)

    def last_message(self, phone: str) -> str | None:
        return next((m for p, m in reversed(self.outbox) if p == phone), None)


@dataclass(frozen=True)
class HttpSmsGateway:
    """An operator's SMS gateway that takes ``{"to": phone, "text": message}`` as JSON by POST
    with a bearer token and answers 2xx when it has taken the message."""

    url: str
    token: str
    timeout: float = 10.0

    def send(self, phone: str, message: str) -> None:
        body = json.dumps({"to": phone, "text": message}, ensure_ascii=False).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except (urllib.error.URLError, TimeoutError) as exc:
            raise SmsError(f"the SMS gateway did not answer: {exc}") from None
        if not 200 <= status < 300:
            raise SmsError(f"the SMS gateway refused the message (HTTP {status})")


def sms_sender_from_env(environ: Mapping[str, str] | None = None) -> SmsSender:
    """The gateway named by ``SAFETYNET_SMS_URL`` (and ``SAFETYNET_SMS_TOKEN``), else the
    development sender."""
    env = os.environ if environ is None else environ
    url = env.get("SAFETYNET_SMS_URL", "").strip()
    if not url:
        return DevelopmentSms()
    if not url.startswith("https://"):
        raise InputError("SAFETYNET_SMS_URL", "must be an https:// URL")
    return HttpSmsGateway(url, env.get("SAFETYNET_SMS_TOKEN", ""))


@dataclass(frozen=True)
class SignInRules:
    """How long a code lasts, how many wrong tries it takes, how often codes may be sent
    (settings of the service, docs/web.md "Citizens")."""

    digits: int = 6
    valid_for: dt.timedelta = dt.timedelta(minutes=5)
    max_attempts: int = 5
    resend_after: dt.timedelta = dt.timedelta(seconds=60)
    max_codes_per_hour: int = 5
    session_lasts: dt.timedelta = dt.timedelta(minutes=30)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SignInRules:
        """The defaults, with ``SAFETYNET_SIGN_IN_CODE_MINUTES``, ``…_MAX_ATTEMPTS`` and
        ``…_CODES_PER_HOUR`` where set."""
        env = os.environ if environ is None else environ
        default = cls()
        minutes = _whole(env, "SAFETYNET_SIGN_IN_CODE_MINUTES")
        return cls(
            valid_for=dt.timedelta(minutes=minutes) if minutes else default.valid_for,
            max_attempts=_whole(env, "SAFETYNET_SIGN_IN_MAX_ATTEMPTS") or default.max_attempts,
            max_codes_per_hour=(
                _whole(env, "SAFETYNET_SIGN_IN_CODES_PER_HOUR") or default.max_codes_per_hour
            ),
        )


def _whole(env: Mapping[str, str], name: str) -> int | None:
    if not env.get(name):
        return None
    try:
        value = int(env[name])
    except ValueError:
        raise InputError(name, "must be a whole number") from None
    if value < 1:
        raise InputError(name, "must be at least 1")
    return value


@dataclass(frozen=True)
class RequestSignInCode:
    id_number: str


@dataclass(frozen=True)
class VerifySignInCode:
    """``token_sha256``: the SHA-256 of the browser's session token; the session is opened with
    the sign-in (none when empty, e.g. a check of the code alone)."""

    id_number: str
    code: str
    token_sha256: str = ""


@dataclass(frozen=True)
class EndCitizenSession:
    token_sha256: str


@dataclass(frozen=True)
class SignInCodeSent:
    person_id: int
    phone_masked: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Citizen:
    """A signed-in citizen: the person and the one household they may see."""

    person_id: int
    household_id: int
    name: str
    id_masked: str

    @property
    def actor(self) -> Actor:
        return Actor(f"citizen:{self.id_masked}", CITIZEN_ROLE)


def _hash(code: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(code.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _matches(code: str, stored: str) -> bool:
    _, salt, _digest = stored.split("$")
    return hmac.compare_digest(_hash(code, bytes.fromhex(salt)), stored)


def _person(uow: UnitOfWork, id_number: str) -> Person:
    try:
        number = parse_identity_number(id_number.strip().upper()).value
    except SafetyNetError:
        raise InputError("id_number", "身份证号码有误 / not a valid identity number") from None
    person = uow.session.execute(
        select(Person).where(Person.id_number == number)
    ).scalar_one_or_none()
    if person is None or not person.phone:
        raise SignInRefusedError(
            "该身份证号码未登记手机号码，请到户籍所在地乡镇（街道）办理",
            "no mobile number is registered for this identity number; ask the township office",
        )
    return person


def _actor(person: Person) -> Actor:
    return Actor(f"citizen:{mask_identity_number(person.id_number)}", CITIZEN_ROLE)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives datetimes back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _check_rate(uow: UnitOfWork, person: Person, now: dt.datetime, rules: SignInRules) -> None:
    last, count = uow.session.execute(
        select(func.max(SignInCode.created_at), func.count()).where(
            SignInCode.person_id == person.id,
            SignInCode.created_at > now - dt.timedelta(hours=1),
        )
    ).one()
    if count >= rules.max_codes_per_hour:
        raise SignInRefusedError(
            "验证码发送次数过多，请一小时后再试",
            f"{rules.max_codes_per_hour} codes were sent in the last hour; try again later",
        )
    if last is not None and now - _aware(last) < rules.resend_after:
        raise SignInRefusedError(
            "验证码刚刚已发送，请稍后再试",
            "a code was sent a moment ago; wait before asking for another",
        )


def request_sign_in_code(
    cmd: RequestSignInCode,
    uow: UnitOfWork,
    clock: Clock,
    *,
    sender: SmsSender,
    rules: SignInRules = SignInRules(),
) -> SignInCodeSent:
    """Send ``cmd``'s person a new code (the message names no identity number)."""
    person = _person(uow, cmd.id_number)
    now = clock()
    _check_rate(uow, person, now, rules)
    code = f"{secrets.randbelow(10**rules.digits):0{rules.digits}d}"
    row = SignInCode(
        person_id=person.id,
        code_hash=_hash(code),
        created_at=now,
        expires_at=now + rules.valid_for,
        attempts=0,
    )
    uow.session.add(row)
    uow.session.flush()
    phone = str(person.phone)
    event = SignInCodeSent(person.id, mask_phone(phone), row.expires_at)
    minutes = int(rules.valid_for.total_seconds() // 60)
    append(
        uow.session,
        actor=_actor(person),
        command="RequestSignInCode",
        event="SignInCodeSent",
        entity="person",
        entity_id=person.id,
        after={"phone": event.phone_masked, "expires_at": row.expires_at.isoformat()},
        occurred_at=now,
    )
    # Sent before the commit: a gateway that fails leaves no code behind.
    sender.send(phone, f"【社会救助】您的登录验证码为{code}，{minutes}分钟内有效。请勿告诉他人。")
    uow.commit()
    return event


def _household_of(uow: UnitOfWork, person: Person) -> int:
    household_id = uow.session.execute(
        select(Membership.household_id).where(
            Membership.person_id == person.id, Membership.end_date.is_(None)
        )
    ).scalar_one_or_none()
    if household_id is None:
        raise SignInRefusedError(
            "未找到你所在的家庭，请到乡镇（街道）办理", "you belong to no household in the registry"
        )
    return int(household_id)


def _refuse_attempt(uow: UnitOfWork, person: Person, row: SignInCode, now: dt.datetime) -> None:
    row.attempts += 1
    append(
        uow.session,
        actor=_actor(person),
        command="VerifySignInCode",
        event="SignInFailed",
        entity="person",
        entity_id=person.id,
        after={"code": row.id, "attempts": row.attempts},
        occurred_at=now,
    )
    uow.commit()


def verify_sign_in_code(
    cmd: VerifySignInCode,
    uow: UnitOfWork,
    clock: Clock,
    *,
    rules: SignInRules = SignInRules(),
) -> Citizen:
    """Sign ``cmd``'s person in with the code, or refuse (a wrong code counts an attempt)."""
    person = _person(uow, cmd.id_number)
    now = clock()
    row = uow.session.execute(
        select(SignInCode)
        .where(SignInCode.person_id == person.id)
        .order_by(SignInCode.created_at.desc(), SignInCode.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or _aware(row.expires_at) <= now:
        raise SignInRefusedError(
            "验证码已失效，请重新获取", "the code has expired or was used; ask for a new one"
        )
    if row.attempts >= rules.max_attempts:
        raise SignInRefusedError(
            "验证码错误次数过多，请重新获取", "too many wrong codes; ask for a new one"
        )
    if not _matches(cmd.code.strip(), row.code_hash):
        _refuse_attempt(uow, person, row, now)
        left = rules.max_attempts - row.attempts
        raise SignInRefusedError(
            f"验证码错误，还可尝试{left}次", f"the code is wrong; {left} tries left"
        )
    household_id = _household_of(uow, person)
    row.used_at = now
    if cmd.token_sha256:
        uow.session.add(
            CitizenSession(
                token_sha256=cmd.token_sha256,
                person_id=person.id,
                household_id=household_id,
                created_at=now,
                expires_at=now + rules.session_lasts,
            )
        )
    citizen = Citizen(person.id, household_id, person.name, mask_identity_number(person.id_number))
    append(
        uow.session,
        actor=citizen.actor,
        command="VerifySignInCode",
        event="CitizenSignedIn",
        entity="person",
        entity_id=person.id,
        after={"household_id": household_id},
        occurred_at=now,
    )
    uow.commit()
    return citizen


def end_citizen_session(cmd: EndCitizenSession, uow: UnitOfWork, clock: Clock) -> None:
    """Sign out: the session ends now (an unknown or ended one is left as it is)."""
    row = uow.session.execute(
        select(CitizenSession).where(
            CitizenSession.token_sha256 == cmd.token_sha256, CitizenSession.ended_at.is_(None)
        )
    ).scalar_one_or_none()
    if row is None:
        return
    row.ended_at = clock()
    uow.commit()


def citizen_of_session(session: Session, token_sha256: str, now: dt.datetime) -> Citizen | None:
    """The citizen signed in with the token whose SHA-256 is ``token_sha256``, if the session
    has neither ended nor expired."""
    row = session.execute(
        select(CitizenSession, Person)
        .join(Person, Person.id == CitizenSession.person_id)
        .where(CitizenSession.token_sha256 == token_sha256, CitizenSession.ended_at.is_(None))
    ).first()
    if row is None or _aware(row[0].expires_at) <= now:
        return None
    citizen_session, person = row
    return Citizen(
        person.id,
        citizen_session.household_id,
        person.name,
        mask_identity_number(person.id_number),
    )
