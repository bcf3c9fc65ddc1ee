"""Synthetic persons with duplicates of known truth, to train and evaluate record linkage.

A fixed seed gives the same persons: names drawn from common surnames and given-name characters,
valid identity numbers of a few counties. A share of them appear a second time as the errors of
county offices make them: a mistyped digit of the identity number (the check character computed
by the system that stored it), a legacy 15-digit number issued under the county's old code, a
name written with homophone characters or with characters swapped or missing, a move to another
county. Twins (same surname, birth date, county, serials one apart, other given names) are
added as the hardest non-duplicates.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from safetynet.domain.identity import check_character
from safetynet.registry.linkage import LinkageRecord, ScoredPair, name_pinyin

__all__ = ["Evaluation", "SyntheticRegistry", "evaluate", "synthetic_registry"]

# The most common surnames, most common first (a draw favours the front of the list).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏建红飞波辉宇文斌浩凯俊峰晨云莉"
    "玲燕雪琳婷慧海龙宁欣颖鑫林志国庆福春梅荣佳晓小金凤亮成新建子怡博轩雨涵思嘉欣然泽睿"
    "玮炜薇维莹盈瑛颖鸣铭敬婧君钧宏鸿洪萍苹晖蕙惠方舫珊姗立莉力"
)
# County codes the persons hold (Beijing's districts and two Hebei counties), with the old
# codes some numbers were first issued under (a county re-coded after 1984).
COUNTIES = ("110101", "110102", "110105", "110106", "110108", "130102", "130104")
# How often a duplicate also has its name written otherwise, and how often it was enrolled in
# another county.
ERROR_SHARE = 0.4
OLD_CODES = {"110101": "110103", "110102": "110104", "130102": "130103"}


@dataclass(frozen=True)
class SyntheticRegistry:
    records: list[LinkageRecord]
    truth: set[tuple[int, int]]  # pairs (lower id first) that are one person
    kinds: dict[tuple[int, int], str]  # what made each true pair differ
    twins: set[tuple[int, int]]


@dataclass(frozen=True)
class Evaluation:
    threshold: float
    true_pairs: int
    found_pairs: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0


def _identity(place: str, born: dt.date, serial: int) -> str:
    first17 = f"{place}{born:%Y%m%d}{serial:03d}"
    return first17 + check_character(first17)


def _homophones() -> dict[str, list[str]]:
    by_sound: dict[str, list[str]] = defaultdict(list)
    for char in dict.fromkeys(GIVEN):
        by_sound[name_pinyin(char)].append(char)
    return {c: [o for o in group if o != c] for group in by_sound.values() for c in group}


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used: set[str] = set()
        self.next_id = 1
        self.homophones = _homophones()
        self.given = "".join(dict.fromkeys(GIVEN))

    def surname(self) -> str:
        # A heavy head: 王李张 are far more common than 郝.
        return SURNAMES[min(int(self.rng.expovariate(1 / 12)), len(SURNAMES) - 1)]

    def given_name(self) -> str:
        length = 1 if self.rng.random() < 0.25 else 2
        return "".join(self.rng.choice(self.given) for _ in range(length))

    def birth_date(self) -> dt.date:
        return dt.date(1935, 1, 1) + dt.timedelta(days=self.rng.randrange(365 * 88))

    def unused(self, place: str, born: dt.date, sex: str, near: int | None = None) -> str:
        for _ in range(1000):
            serial = self.rng.randrange(1000) if near is None else near + self.rng.choice((-2, 2))
            if serial < 0 or serial > 999:
                continue
            if (serial % 2 == 1) != (sex == "male"):
                serial = serial ^ 1
            number = _identity(place, born, serial)
            if number not in self.used:
                self.used.add(number)
                return number
        raise RuntimeError("no free identity number")

    def record(
        self, id_number: str, name: str, sex: str, born: dt.date, region: str
    ) -> LinkageRecord:
        person = LinkageRecord(self.next_id, id_number, name, sex, born, region)
        self.next_id += 1
        return person

    def variant_name(self, name: str) -> str:
        surname, given = name[0], name[1:]
        options = []
        sound_alike = [i for i, c in enumerate(given) if self.homophones.get(c)]
        if sound_alike:
            options.append("homophone")
        if len(given) == 2:
            options += ["swapped", "missing"]
        if not options:
            return surname + given + self.rng.choice(self.given)  # a character added
        match self.rng.choice(options):
            case "homophone":
                i = self.rng.choice(sound_alike)
                chars = list(given)
                chars[i] = self.rng.choice(self.homophones[given[i]])
                return surname + "".join(chars)
            case "swapped":
                return surname + given[::-1]
            case _:
                return surname + self.rng.choice(given)

    def typo_serial(self, person: LinkageRecord) -> str:
        """One serial digit retyped, the check character recomputed by the storing system."""
        for _ in range(100):
            digits = list(person.id_number[:17])
            position = self.rng.choice((14, 15))
            digits[position] = str(self.rng.randrange(10))
            first17 = "".join(digits)
            number = first17 + check_character(first17)
            if number not in self.used:
                self.used.add(number)
                return number
        raise RuntimeError("no free typo")

    def typo_birth(self, person: LinkageRecord) -> tuple[str, dt.date]:
        """One birth-date digit of the number retyped (the birth date then follows it)."""
        for _ in range(100):
            digits = list(person.id_number[:17])
            position = self.rng.choice((8, 9, 11, 12, 13))  # not the century or month tens
            digits[position] = str(self.rng.randrange(10))
            first17 = "".join(digits)
            try:
                born = dt.datetime.strptime(first17[6:14], "%Y%m%d").date()
            except ValueError:
                continue
            number = first17 + check_character(first17)
            if born != person.birth_date and born < dt.date(2025, 1, 1) and number not in self.used:
                self.used.add(number)
                return number, born
        raise RuntimeError("no free typo")

    def legacy(self, person: LinkageRecord) -> str | None:
        """The number converted from a 15-digit one issued under the county's old code."""
        old = OLD_CODES.get(person.id_number[:6])
        if old is None:
            return None
        number = _identity(old, person.birth_date, int(person.id_number[14:17]))
        if number in self.used:
            return None
        self.used.add(number)
        return number

    def duplicate(self, person: LinkageRecord) -> tuple[LinkageRecord, str]:
        """A second row of ``person``: always another identity number (the registry holds each
        number once), and independently of it a name variant and a move, each with
        ``ERROR_SHARE``."""
        id_error = self.rng.choice(("serial_typo", "birth_typo", "legacy"))
        name, born, region = person.name, person.birth_date, person.region
        number: str | None = None
        if id_error == "legacy":
            number = self.legacy(person)
            if number is None:
                id_error = "serial_typo"
        if id_error == "birth_typo":
            number, born = self.typo_birth(person)
        if number is None:
            number = self.typo_serial(person)
        kinds = [id_error]
        if self.rng.random() < ERROR_SHARE:
            name = self.variant_name(name)
            kinds.append("name_variant")
        if self.rng.random() < ERROR_SHARE:
            region = self.rng.choice([c for c in COUNTIES if c != region])
            kinds.append("moved")
        return self.record(number, name, person.sex, born, region), "+".join(kinds)


def synthetic_registry(
    persons: int, *, duplicate_share: float = 0.05, twin_share: float = 0.01, seed: int = 12
) -> SyntheticRegistry:
    """``persons`` distinct persons, then duplicates of ``duplicate_share`` of them and twins of
    ``twin_share`` (both added on top), in a shuffled order."""
    make = _Maker(seed)
    originals: list[LinkageRecord] = []
    for _ in range(persons):
        sex = make.rng.choice(("male", "female"))
        born = make.birth_date()
        county = make.rng.choice(COUNTIES)
        number = make.unused(county, born, sex)
        originals.append(make.record(number, make.surname() + make.given_name(), sex, born, county))
    records = list(originals)
    truth: set[tuple[int, int]] = set()
    kinds: dict[tuple[int, int], str] = {}
    for person in make.rng.sample(originals, int(persons * duplicate_share)):
        copy, kind = make.duplicate(person)
        records.append(copy)
        truth.add((person.person_id, copy.person_id))
        kinds[(person.person_id, copy.person_id)] = kind
    twins: set[tuple[int, int]] = set()
    for person in make.rng.sample(originals, int(persons * twin_share)):
        sex = make.rng.choice(("male", "female"))
        number = make.unused(
            person.id_number[:6], person.birth_date, sex, int(person.id_number[14:17])
        )
        given = make.given_name()
        while given in person.name:
            given = make.given_name()
        twin = make.record(number, person.name[0] + given, sex, person.birth_date, person.region)
        records.append(twin)
        twins.add((person.person_id, twin.person_id))
    make.rng.shuffle(records)
    return SyntheticRegistry(records, truth, kinds, twins)


def evaluate(
    pairs: Sequence[ScoredPair], truth: set[tuple[int, int]], threshold: float
) -> Evaluation:
    found = {(p.left_id, p.right_id) for p in pairs if p.match_probability >= threshold}
    return Evaluation(threshold, len(truth), len(found), len(found & truth))
