"""Citizens sign in with their identity number and a one-time code: codes hashed at rest, expiry,
attempt and rate limits, audited with the number and phone masked; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.errors import InputError
from safetynet.registry.citizen_access import (
    Citizen,
    DevelopmentSms,
    HttpSmsGateway,
    RequestSignInCode,
    SignInRefusedError,
    SignInRules,
    SmsError,
    VerifySignInCode,
    mask_phone,
    sms_sender_from_env,
)
from safetynet.registry.citizen_model import SignInCode
from safetynet.registry.model import Membership, Person
from tests.cases.helpers import HEAD, id_number, register_household

PHONE = "13812345678"
OTHER = id_number("19700101", 7)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2025, 10, 20, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def _households(db: Database) -> None:
    register_household(db, "H1", [HEAD, id_number("19870601", 4)])
    register_household(db, "H2", [OTHER])
    with db.sessions.begin() as session:
        for number in (HEAD, OTHER):
            person = session.execute(select(Person).where(Person.id_number == number)).scalar_one()
            person.phone = PHONE if number == HEAD else "13900000000"


def _code(sms: DevelopmentSms) -> str:
    message = sms.last_message(PHONE)
    assert message is not None
    found = re.search(r"验证码为(\d{6})", message)
    assert found is not None, message
    return found.group(1)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_sign_in_with_a_code_sent_by_sms(database: Database, clock: Clock) -> None:
    _households(database)
    sms = DevelopmentSms()
    bus = bootstrap(database, clock=clock, sms=sms)
    sent = bus.handle(RequestSignInCode(id_number=HEAD.lower()))
    assert sent.phone_masked == "138****5678"
    code = _code(sms)
    assert HEAD not in (sms.last_message(PHONE) or "")
    with database.sessions() as session:
        row = session.execute(select(SignInCode)).scalar_one()
        assert code not in row.code_hash
        assert row.code_hash.startswith("scrypt$")

    clock.advance(seconds=30)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(SignInRefusedError, match="验证码错误，还可尝试4次"):
        bus.handle(VerifySignInCode(id_number=HEAD, code=wrong))
    citizen = bus.handle(VerifySignInCode(id_number=HEAD, code=code))
    assert isinstance(citizen, Citizen)
    with database.sessions() as session:
        own = session.execute(
            select(Membership.household_id)
            .join(Person, Person.id == Membership.person_id)
            .where(Person.id_number == HEAD)
        ).scalar_one()
        assert citizen.household_id == own
        assert citizen.id_masked == "110***********0032"
        # A code signs in once.
    with pytest.raises(SignInRefusedError, match="验证码已失效"):
        bus.handle(VerifySignInCode(id_number=HEAD, code=code))
    with database.sessions() as session:
        entries = session.execute(
            select(AuditEvent.event, AuditEvent.actor, AuditEvent.after).order_by(AuditEvent.id)
        ).all()
    assert [e for e, _, _ in entries] == ["SignInCodeSent", "SignInFailed", "CitizenSignedIn"]
    text = json.dumps([list(map(str, e)) for e in entries], ensure_ascii=False)
    assert HEAD not in text
    assert PHONE not in text
    assert code not in text
    assert entries[0][1] == "citizen:110***********0032"


def test_codes_expire_and_run_out_of_attempts(database: Database, clock: Clock) -> None:
    _households(database)
    sms = DevelopmentSms()
    bus = bootstrap(database, clock=clock, sms=sms, sign_in=SignInRules(max_attempts=2))
    bus.handle(RequestSignInCode(id_number=HEAD))
    code = _code(sms)
    clock.advance(minutes=5)
    with pytest.raises(SignInRefusedError, match="已失效"):
        bus.handle(VerifySignInCode(id_number=HEAD, code=code))

    bus.handle(RequestSignInCode(id_number=HEAD))
    code = _code(sms)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(2):
        with pytest.raises(SignInRefusedError, match="验证码错误"):
            bus.handle(VerifySignInCode(id_number=HEAD, code=wrong))
    # Exhausted: even the right code is refused now.
    with pytest.raises(SignInRefusedError, match="错误次数过多"):
        bus.handle(VerifySignInCode(id_number=HEAD, code=code))


def test_codes_are_rate_limited(database: Database, clock: Clock) -> None:
    _households(database)
    bus = bootstrap(database, clock=clock, sms=DevelopmentSms())
    bus.handle(RequestSignInCode(id_number=HEAD))
    with pytest.raises(SignInRefusedError, match="刚刚已发送"):
        bus.handle(RequestSignInCode(id_number=HEAD))
    for _ in range(4):
        clock.advance(seconds=61)
        bus.handle(RequestSignInCode(id_number=HEAD))
    clock.advance(seconds=61)
    with pytest.raises(SignInRefusedError, match="发送次数过多"):
        bus.handle(RequestSignInCode(id_number=HEAD))
    clock.advance(hours=1)
    bus.handle(RequestSignInCode(id_number=HEAD))  # an hour later, allowed again


def test_unknown_numbers_and_people_without_a_phone_get_no_code(
    database: Database, clock: Clock
) -> None:
    register_household(database, "H3", [HEAD])  # no phone registered
    sms = DevelopmentSms()
    bus = bootstrap(database, clock=clock, sms=sms)
    with pytest.raises(InputError, match="id_number"):
        bus.handle(RequestSignInCode(id_number="110105198503010031"))  # bad check character
    with pytest.raises(SignInRefusedError, match="未登记手机号码"):
        bus.handle(RequestSignInCode(id_number=HEAD))
    with pytest.raises(SignInRefusedError, match="未登记手机号码"):
        bus.handle(RequestSignInCode(id_number=OTHER))  # not in the registry: the same answer
    assert sms.outbox == []


def test_a_failing_gateway_leaves_no_code(database: Database, clock: Clock) -> None:
    _households(database)

    class Down:
        def send(self, phone: str, message: str) -> None:
            raise SmsError(f"the SMS gateway did not answer ({len(phone + message)} characters)")

    with pytest.raises(SmsError):
        bootstrap(database, clock=clock, sms=Down()).handle(RequestSignInCode(id_number=HEAD))
    with database.sessions() as session:
        assert session.execute(select(SignInCode)).first() is None
        assert session.execute(select(AuditEvent)).first() is None


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"auth": self.headers["Authorization"], **json.loads(body)})
            self.send_response(503 if received[-1]["to"] == "fail" else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms", received
    server.shutdown()
    server.server_close()


def test_the_http_gateway_adapter(gateway: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = gateway
    sender = HttpSmsGateway(url, "secret-token")
    sender.send(PHONE, "验证码123456")
    assert received == [{"auth": "Bearer secret-token", "to": PHONE, "text": "验证码123456"}]
    with pytest.raises(SmsError, match="HTTP 503"):
        sender.send("fail", "x")
    with pytest.raises(SmsError, match="did not answer"):
        HttpSmsGateway("http://127.0.0.1:9/sms", "t", timeout=1).send(PHONE, "x")


def test_settings_of_the_sign_in() -> None:
    assert isinstance(sms_sender_from_env({}), DevelopmentSms)
    gateway = sms_sender_from_env(
        {"SAFETYNET_SMS_URL": "https://sms.example.gov.cn/send", "SAFETYNET_SMS_TOKEN": "t"}
    )
    assert gateway == HttpSmsGateway("https://sms.example.gov.cn/send", "t")
    with pytest.raises(InputError, match="SAFETYNET_SMS_URL"):
        sms_sender_from_env({"SAFETYNET_SMS_URL": "http://plain"})
    rules = SignInRules.from_env(
        {"SAFETYNET_SIGN_IN_CODE_MINUTES": "10", "SAFETYNET_SIGN_IN_MAX_ATTEMPTS": "3"}
    )
    assert (rules.valid_for, rules.max_attempts, rules.max_codes_per_hour) == (
        dt.timedelta(minutes=10),
        3,
        5,
    )
    with pytest.raises(InputError, match="SAFETYNET_SIGN_IN_MAX_ATTEMPTS"):
        SignInRules.from_env({"SAFETYNET_SIGN_IN_MAX_ATTEMPTS": "0"})
    assert mask_phone(PHONE) == "138****5678"
