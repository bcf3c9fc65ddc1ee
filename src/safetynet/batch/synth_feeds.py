"""Synthetic department feeds for a synthetic population, with planted discrepancies.

``generate_feeds(snapshot_root, out_root, month, seed)`` reads each county of a snapshot written by
``batch.synth`` (only the columns it needs) and writes, per feed kind and county, one Parquet file
in the documented file schema of docs/feeds.md (what ``safetynet feeds load`` and
``monitoring.columnar.validate_columns`` read):

    OUT/<kind>/county=<code>/part-0.parquet     one file per kind and county
    OUT/planted.parquet                         the planted discrepancies (the truth)
    OUT/manifest.json                           month, delivery date, seed, rates, row counts

The feeds agree with the population (wages equal the declared gross wages, vehicles, homes and
deposits those the households declare, bills the hospital stays of the month, ...) except where a
discrepancy is planted and recorded in ``planted.parquet``; each file also ends with a few bad rows
that validation must quarantine. Everything is a pure function of (snapshot, month, seed, rates):
county by county, kind by kind, with ``numpy.random.default_rng([seed, county, kind])``, so memory
is bounded by one county. docs/synthetic-population.md ("Department feeds") lists the rates.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from safetynet.batch.synth import identity_numbers
from safetynet.domain.identity import check_character
from safetynet.domain.regions import RegionLevel, default_registry
from safetynet.errors import InputError
from safetynet.intake import parse_month
from safetynet.monitoring.feeds import (
    DISASTER_DAMAGES,
    FEEDS,
    FeedSpec,
)
from safetynet.policy.population import FIELDS, date_to_int, declare_all_fields
from safetynet.registry.county_data import counties as snapshot_counties
from safetynet.registry.county_data import read_manifest

__all__ = [
    "CAUGHT_BY_RULE",
    "DISCREPANCIES",
    "FEED_FILE",
    "PLANTED_FILE",
    "FeedRates",
    "delivery_date",
    "feed_path",
    "generate_feeds",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Columns = dict[str, Any]  # file column -> NumPy array, or Arrow array for text

FEED_FILE = "part-0.parquet"
PLANTED_FILE = "planted.parquet"
MANIFEST_FILE = "manifest.json"
GENERATOR_VERSION = "1"

DISCREPANCIES = (
    "recipient_died",
    "undeclared_vehicle",
    "undeclared_property",
    "undeclared_business",
    "wage_above_declared",
    "large_out_of_pocket",
    "disaster_victim",
    "paid_in_two_regions",
    "deposits_above_limit",
)
# The monitoring rule (docs/monitoring.md) that must raise an alert for each planted discrepancy.
CAUGHT_BY_RULE = {
    "recipient_died": "death",
    "undeclared_vehicle": "new_vehicle",
    "undeclared_property": "new_property",
    "undeclared_business": "new_business",
    "wage_above_declared": "income_crosses_standard",
    "large_out_of_pocket": "medical_out_of_pocket",
    "disaster_victim": "disaster_victim",
    "paid_in_two_regions": "duplicate_payment",
    "deposits_above_limit": "deposits_above_limit",
}
assert tuple(CAUGHT_BY_RULE) == DISCREPANCIES

PLANTED_SCHEMA = pa.schema(
    [
        pa.field("county", pa.string(), nullable=False),  # the person's county (snapshot)
        pa.field("household_id", pa.int64(), nullable=False),
        pa.field("person_id", pa.int64(), nullable=False),
        pa.field("id_number", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),  # the feed that shows it
        pa.field("discrepancy", pa.string(), nullable=False),
        pa.field("feed_county", pa.string(), nullable=False),  # the county whose file has the row
    ]
)
BAD_ROWS = ("bad_check_character", "after_delivery", "duplicate", "unknown_person")
"""The bad rows appended to every non-empty file, in this order (``FeedRates.bad_rows`` of them)."""

_KIND_NUMBER = {kind: i for i, kind in enumerate(FEEDS)}
_BANKS = (
    "中国工商银行",
    "中国农业银行",
    "中国银行",
    "中国建设银行",
    "中国邮政储蓄银行",
    "农村信用社",
)
# A real county code of the past (潮阳县, 1983-1993), so the numbers are valid identity numbers,
# but in no snapshot (the division list of today): persons outside the registry.
_UNKNOWN_REGION = "440524"


@dataclass(frozen=True)
class FeedRates:
    """Monthly rates of natural events and of planted discrepancies (all illustrative, [I]).

    Shares of ``monitored`` households apply to households on dibao, tekun, dibao-marginal or
    low-income monitoring; of ``recipients`` to persons of dibao households and tekun recipients.
    """

    # natural events, per person (or household) and month
    death_under_60: float = 0.0001
    death_60_plus: float = 0.003
    birth_per_woman_20_44: float = 0.004
    marriage_per_single_22_40: float = 0.004
    divorce_per_couple: float = 0.0003
    hukou_move: float = 0.0008
    certificate_renewal: float = 0.01  # of disability certificate holders
    unemployment_ended: float = 0.1  # of registered unemployed already drawing benefit
    social_insurance_share: float = 1.0  # of contributors and pensioners reported
    bank_reply_share_others: float = 0.01  # households verified besides the monitored ones
    natural_out_of_pocket_cap_yuan: int = 20_000
    disaster_villages: int = 2  # per county; a village is 300 consecutive households
    village_households: int = 300
    # planted discrepancies
    recipient_died: float = 0.003  # of recipients, besides natural deaths
    undeclared_vehicle: float = 0.01  # of monitored households without a declared vehicle
    undeclared_property: float = 0.01  # of monitored households without a declared home
    undeclared_business: float = 0.005  # of monitored households without business income
    wage_above_declared: float = 0.05  # of dibao households with a member aged 18-59
    wage_raise_per_member_yuan: int = 3_000  # per member of the household, per month
    large_out_of_pocket: float = 0.0002  # of all persons
    large_out_of_pocket_yuan: tuple[int, int] = (60_000, 200_000)
    paid_in_two_regions: float = 0.005  # of recipients; needs two counties or more
    paid_in_two_regions_benefit_yuan: int = 1_800  # the other county's unemployment benefit
    deposits_above_limit: float = 0.01  # of dibao households (their declared assets pass the test)
    deposits_above_limit_yuan: tuple[int, int] = (200_000, 500_000)  # added to the declared
    bad_rows: int = 4  # per non-empty file, of BAD_ROWS in order


def delivery_date(month: str) -> dt.date:
    """The last day of ``month``: the delivery date the feeds of that month are checked against."""
    year, number = int(month[:4]), int(month[5:7])
    return dt.date(year, number, calendar.monthrange(year, number)[1])


def feed_path(out_root: Path, kind: str, county: str) -> Path:
    return out_root / kind / f"county={county}" / FEED_FILE


# -- one county's population, as far as the feeds need it -------------------------------------

_PERSON_FIELDS = (
    "birth_date",
    "sex",
    "relation",
    "wage_income",
    "social_insurance_paid",
    "business_income",
    "pension_income",
    "medical_in_policy_cost",
    "disability_category",
    "disability_grade",
    "has_serious_illness",
    "unemployment_registered",
    "unemployment_months_drawn",
    "is_tekun_recipient",
)
_HOUSEHOLD_FIELDS = (
    "is_dibao_recipient",
    "is_dibao_marginal_registered",
    "is_low_income_monitored",
    "vehicles",
    "homes",
    "housing_floor_area_per_person",
    "financial_assets",
)


@dataclass
class _County:
    code: str
    persons: dict[str, np.ndarray]
    households: dict[str, np.ndarray]
    household_of: IntArray  # person -> household index
    head: IntArray  # household -> its first person's index
    size: IntArray
    ids: pa.Array  # identity numbers (text), one per person

    @property
    def n(self) -> int:
        return len(self.household_of)

    def p(self, name: str) -> np.ndarray:
        return self.persons[name]

    def h(self, name: str) -> np.ndarray:
        return self.households[name]

    def h_to_p(self, values: np.ndarray) -> np.ndarray:
        return values[self.household_of]

    @property
    def recipients(self) -> BoolArray:
        """Persons of dibao households and tekun recipients."""
        result: BoolArray = self.h_to_p(self.h("is_dibao_recipient")) | self.p("is_tekun_recipient")
        return result

    @property
    def monitored(self) -> BoolArray:
        """Households on dibao, tekun, dibao-marginal or low-income monitoring."""
        tekun = np.bincount(self.household_of, self.p("is_tekun_recipient"), len(self.head)) > 0
        result: BoolArray = (
            self.h("is_dibao_recipient")
            | self.h("is_dibao_marginal_registered")
            | self.h("is_low_income_monitored")
            | tekun
        )
        return result


def _read(
    root: Path,
    county: str,
    person_fields: tuple[str, ...] = _PERSON_FIELDS,
    household_fields: tuple[str, ...] = _HOUSEHOLD_FIELDS,
) -> _County:
    declare_all_fields()
    persons = pq.read_table(
        root / "persons" / f"county={county}" / "part-0.parquet",
        columns=["household_id", "person_id", "id_number", *person_fields],
    )
    households = pq.read_table(
        root / "households" / f"county={county}" / "part-0.parquet",
        columns=["household_id", *household_fields],
    )
    p = {
        name: persons.column(name).to_numpy(zero_copy_only=False)
        for name in persons.column_names
        if name != "id_number"
    }
    h = {
        name: households.column(name).to_numpy(zero_copy_only=False)
        for name in households.column_names
    }
    household_of = np.searchsorted(h["household_id"], p["household_id"]).astype(np.int64)
    size = np.bincount(household_of, minlength=len(h["household_id"])).astype(np.int64)
    head = np.concatenate(([0], np.cumsum(size)[:-1])).astype(np.int64)
    ids = persons.column("id_number").combine_chunks().cast(pa.string())
    return _County(county, p, h, household_of, head, size, ids)


# -- the generator -----------------------------------------------------------------------------


@dataclass
class _Truth:
    rows: list[pa.Table]

    def add(
        self, county: _County, persons: IntArray, kind: str, what: str, feed_county: str = ""
    ) -> None:
        if not len(persons):
            return
        self.rows.append(
            pa.table(
                {
                    "county": pa.repeat(pa.scalar(county.code, pa.string()), len(persons)),
                    "household_id": county.p("household_id")[persons].astype(np.int64),
                    "person_id": county.p("person_id")[persons].astype(np.int64),
                    "id_number": county.ids.take(pa.array(persons)),
                    "kind": pa.repeat(pa.scalar(kind, pa.string()), len(persons)),
                    "discrepancy": pa.repeat(pa.scalar(what, pa.string()), len(persons)),
                    "feed_county": pa.array(
                        [feed_county or county.code] * len(persons), pa.string()
                    ),
                },
                schema=PLANTED_SCHEMA,
            )
        )


def generate_feeds(
    snapshot_root: Path,
    out_root: Path,
    month: str,
    seed: int,
    *,
    rates: FeedRates | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write every kind's feed for every county of the snapshot, the truth file and a manifest;
    return the manifest. ``out_root`` must be absent, empty or an earlier feeds folder."""
    rates = rates or FeedRates()
    month = parse_month(month, "--month")
    read_manifest(snapshot_root)  # refuses a folder that is not a snapshot
    codes = snapshot_counties(snapshot_root)
    if not codes:
        raise InputError(str(snapshot_root), "the snapshot has no county")
    _prepare(out_root)
    delivered = delivery_date(month)

    # Persons of one county paid in another: chosen first (a few columns of each county), so
    # that the other county's file can carry them when it is written.
    incoming: dict[str, list[Columns]] = {c: [] for c in codes}
    truth = _Truth([])
    if len(codes) > 1:
        for i, code in enumerate(codes):
            county = _read(snapshot_root, code, ("is_tekun_recipient",), ("is_dibao_recipient",))
            rng = _rng(seed, code, "paid_in_two_regions")
            chosen = np.flatnonzero(
                county.recipients & (rng.random(county.n) < rates.paid_in_two_regions)
            )
            other = codes[(i + 1) % len(codes)]
            incoming[other].append(
                {
                    "id_number": county.ids.take(pa.array(chosen)),
                    "item": _repeat("unemployment_benefit", len(chosen)),
                    "amount": np.full(len(chosen), rates.paid_in_two_regions_benefit_yuan * 100),
                }
            )
            truth.add(county, chosen, "social_insurance", "paid_in_two_regions", other)

    counts: dict[str, dict[str, dict[str, int]]] = {}
    for code in codes:
        county = _read(snapshot_root, code)
        built = _CountyFeeds(county, month, seed, rates, truth)
        built.incoming = incoming[code]
        for kind in FEEDS:
            columns = built.make(kind)
            rows, bad = _write(out_root, FEEDS[kind], code, columns, delivered, rates, seed)
            counts.setdefault(kind, {})[code] = {"rows": rows, "bad_rows": bad}
        del county, built
        if progress is not None:
            progress(code)

    planted = (
        pa.concat_tables(truth.rows) if truth.rows else PLANTED_SCHEMA.empty_table()
    ).sort_by([("county", "ascending"), ("person_id", "ascending"), ("discrepancy", "ascending")])
    pq.write_table(planted, out_root / PLANTED_FILE, compression="zstd")
    snapshot = read_manifest(snapshot_root)
    info: dict[str, Any] = {
        "source": "synthetic",
        "generator": "safetynet.batch.synth_feeds",
        "generator_version": GENERATOR_VERSION,
        "snapshot": str(snapshot_root),
        "snapshot_seed": snapshot.get("seed"),
        "snapshot_date": snapshot.get("date"),
        "month": month,
        "delivered_on": delivered.isoformat(),
        "seed": seed,
        "counties": codes,
        "rates": asdict(rates),
        "bad_rows": list(BAD_ROWS[: rates.bad_rows]),
        "files": counts,
        "planted": {
            what: int(np.sum(np.asarray(planted.column("discrepancy").to_pylist()) == what))
            for what in DISCREPANCIES
        },
    }
    (out_root / MANIFEST_FILE).write_text(
        json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return info


def _rng(seed: int, county: str, kind: str) -> np.random.Generator:
    if kind in _KIND_NUMBER:
        number = _KIND_NUMBER[kind]
    else:
        number = len(_KIND_NUMBER) + DISCREPANCIES.index(kind)
    return np.random.default_rng([seed, int(county), number])


def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MANIFEST_FILE).is_file():
            raise InputError(
                str(out), "is not empty and holds no synthetic feeds; choose another --out"
            )
        (out / MANIFEST_FILE).unlink()  # a half-written folder must not look complete
        (out / PLANTED_FILE).unlink(missing_ok=True)
        for kind in FEEDS:
            if (out / kind).is_dir():
                shutil.rmtree(out / kind)
    out.mkdir(parents=True, exist_ok=True)


def _days_in(rng: np.random.Generator, month: str, n: int) -> np.ndarray:
    """Random days of ``month`` (datetime64[D])."""
    first = np.datetime64(f"{month}-01", "D")
    last = np.datetime64(delivery_date(month).isoformat(), "D")
    span = int((last - first).astype(np.int64)) + 1
    result: np.ndarray = first + rng.integers(0, span, n).astype("timedelta64[D]")
    return result


def _yuan(rng: np.random.Generator, low: float, high: float, n: int) -> IntArray:
    """Whole yuan drawn uniformly, in fen."""
    return rng.integers(int(low), int(high) + 1, n).astype(np.int64) * 100


class _CountyFeeds:
    """Builds each kind's columns for one county (file column name -> values)."""

    def __init__(
        self, county: _County, month: str, seed: int, rates: FeedRates, truth: _Truth
    ) -> None:
        self.c = county
        self.month = month
        self.seed = seed
        self.rates = rates
        self.truth = truth
        self.incoming: list[Columns] = []
        on = dt.date(int(month[:4]), int(month[5:7]), 1)
        self.age = (date_to_int(on) - county.p("birth_date").astype(np.int64)) // 10000
        self.female = county.p("sex") == FIELDS.get("sex").code("female")

    def make(self, kind: str) -> Columns:
        build: Callable[[np.random.Generator], Columns] = getattr(self, kind)
        return build(_rng(self.seed, self.c.code, kind))

    def _ids(self, persons: IntArray) -> pa.Array:
        return self.c.ids.take(pa.array(persons, pa.int64()))

    def _pick(self, rng: np.random.Generator, mask: BoolArray, rate: float) -> IntArray:
        return np.flatnonzero(mask & (rng.random(len(mask)) < rate)).astype(np.int64)

    def _heads_of(self, households: IntArray) -> IntArray:
        return self.c.head[households]

    # -- civil registration and public security --

    def deaths(self, rng: np.random.Generator) -> Columns:
        c, r = self.c, self.rates
        natural = rng.random(c.n) < np.where(self.age >= 60, r.death_60_plus, r.death_under_60)
        planted = c.recipients & ~natural & (rng.random(c.n) < r.recipient_died)
        dead = np.flatnonzero(natural | planted)
        self.truth.add(
            c, np.flatnonzero((natural | planted) & c.recipients), "deaths", "recipient_died"
        )
        return {"id_number": self._ids(dead), "death_date": _days_in(rng, self.month, len(dead))}

    def births(self, rng: np.random.Generator) -> Columns:
        c = self.c
        mothers = self._pick(
            rng, self.female & (self.age >= 20) & (self.age < 45), self.rates.birth_per_woman_20_44
        )
        days = _days_in(rng, self.month, len(mothers))
        born = (
            np.array([int(str(d).replace("-", "")) for d in days], dtype=np.int32)
            if len(days)
            else np.zeros(0, np.int32)
        )
        male = rng.random(len(mothers)) < 0.512
        child = _fresh_ids(c.code, born, male, 450, c)
        keep = child != ""
        return {
            "id_number": self._ids(mothers[keep]),
            "child_id_number": child[keep],
            "birth_date": days[keep],
        }

    def marriages(self, rng: np.random.Generator) -> Columns:
        c = self.c
        relation = c.p("relation")
        child = FIELDS.get("relation").code("child")
        head = FIELDS.get("relation").code("head")
        spouse = FIELDS.get("relation").code("spouse")
        single = (
            ((relation == child) | ((relation == head) & (c.h_to_p(c.size) == 1)))
            & (self.age >= 22)
            & (self.age <= 40)
        )
        marrying = self._pick(rng, single, self.rates.marriage_per_single_22_40)
        partner_born = (
            c.p("birth_date")[marrying].astype(np.int64)
            + rng.integers(-3, 4, len(marrying)) * 10000
        ).astype(np.int32)
        partner = _fresh_ids(c.code, partner_born, self.female[marrying], 300, c)
        spouses = np.flatnonzero(relation == spouse)
        divorcing = spouses[rng.random(len(spouses)) < self.rates.divorce_per_couple]
        heads = c.head[c.household_of[divorcing]]
        keep = partner != ""
        persons = np.concatenate([marrying[keep], heads])
        return {
            "id_number": self._ids(persons),
            "spouse_id_number": pa.concat_arrays(
                [pa.array(partner[keep], pa.string()), self._ids(divorcing)]
            ),
            "registered_date": _days_in(rng, self.month, len(persons)),
            "event": np.array(["married"] * int(keep.sum()) + ["divorced"] * len(heads)),
        }

    def hukou_moves(self, rng: np.random.Generator) -> Columns:
        moving = self._pick(rng, np.ones(self.c.n, np.bool_), self.rates.hukou_move)
        targets = _county_codes(self.c.code)
        return {
            "id_number": self._ids(moving),
            "moved_date": _days_in(rng, self.month, len(moving)),
            "to_region": targets[rng.integers(0, len(targets), len(moving))],
        }

    # -- assets --

    def vehicles(self, rng: np.random.Generator) -> Columns:
        c = self.c
        count = c.h("vehicles").astype(np.int64)
        households = np.repeat(np.arange(len(count)), count)
        planted_h = self._pick(rng, c.monitored & (count == 0), self.rates.undeclared_vehicle)
        self.truth.add(c, self._heads_of(planted_h), "vehicles", "undeclared_vehicle")
        declared_days = np.datetime64(f"{self.month}-01", "D") - rng.integers(
            30, 3650, len(households)
        ).astype("timedelta64[D]")
        all_h = np.concatenate([households, planted_h])
        # Not a real plate format: unique within the file, and never printed anyway.
        plates = _joined("川A", c.h("household_id")[all_h], "-", np.arange(len(all_h)))
        return {
            "id_number": self._ids(self._heads_of(all_h)),
            "plate": plates,
            "registered_date": np.concatenate(
                [declared_days, _days_in(rng, self.month, len(planted_h))]
            ),
            "value": _yuan(rng, 30_000, 150_000, len(all_h)),
        }

    def real_estate(self, rng: np.random.Generator) -> Columns:
        c = self.c
        homes = c.h("homes").astype(np.int64)
        households = np.repeat(np.arange(len(homes)), homes)
        first = (
            np.concatenate(([True], households[1:] != households[:-1]))
            if len(households)
            else np.zeros(0, np.bool_)
        )
        area = (
            np.where(
                first,
                c.h("housing_floor_area_per_person")[households] * c.size[households],
                rng.integers(40, 140, len(households)),
            ).astype(np.int64)
            * 100
        )
        planted_h = self._pick(rng, c.monitored & (homes == 0), self.rates.undeclared_property)
        self.truth.add(c, self._heads_of(planted_h), "real_estate", "undeclared_property")
        all_h = np.concatenate([households, planted_h])
        declared_days = np.datetime64(f"{self.month}-01", "D") - rng.integers(
            60, 9000, len(households)
        ).astype("timedelta64[D]")
        ids = _joined(f"{c.code}-", c.h("household_id")[all_h], "-", np.arange(len(all_h)))
        return {
            "id_number": self._ids(self._heads_of(all_h)),
            "property_id": ids,
            "area": np.concatenate(
                [area, rng.integers(60, 121, len(planted_h)).astype(np.int64) * 100]
            ),
            "registered_date": np.concatenate(
                [declared_days, _days_in(rng, self.month, len(planted_h))]
            ),
        }

    def business(self, rng: np.random.Generator) -> Columns:
        c = self.c
        owners_declared = np.flatnonzero((c.p("business_income") > 0) & (self.age < 60))
        has_business = np.bincount(c.household_of, c.p("business_income") > 0, len(c.head)) > 0
        planted_h = self._pick(rng, c.monitored & ~has_business, self.rates.undeclared_business)
        owners = np.concatenate([owners_declared, self._heads_of(planted_h)])
        self.truth.add(c, self._heads_of(planted_h), "business", "undeclared_business")
        declared_days = np.datetime64(f"{self.month}-01", "D") - rng.integers(
            60, 5000, len(owners_declared)
        ).astype("timedelta64[D]")
        company = _joined(f"92{c.code}MA", c.p("person_id")[owners])
        return {
            "id_number": self._ids(owners),
            "company_id": company,
            "registered_date": np.concatenate(
                [declared_days, _days_in(rng, self.month, len(planted_h))]
            ),
            "capital": np.concatenate(
                [
                    _yuan(rng, 10_000, 100_000, len(owners_declared)),
                    _yuan(rng, 50_000, 500_000, len(planted_h)),
                ]
            ),
        }

    # -- income --

    def wages(self, rng: np.random.Generator) -> Columns:
        c, r = self.c, self.rates
        wage = c.p("wage_income").astype(np.int64).copy()
        adult = (self.age >= 18) & (self.age < 60)
        # Dibao households declared below the standard, so that the hidden wage moves them across
        # it: not a marginal or monitored household (above the line already), nor one with a
        # severely disabled or seriously ill member (maybe on single-person dibao, above the line).
        special = ((c.p("disability_grade") >= 1) & (c.p("disability_grade") <= 3)) | c.p(
            "has_serious_illness"
        )
        dibao = c.h("is_dibao_recipient").astype(np.bool_)
        dibao &= np.bincount(c.household_of, special, len(c.head)) == 0
        eligible = dibao & (np.bincount(c.household_of, adult, len(c.head)) > 0)
        planted_h = np.flatnonzero(eligible & (rng.random(len(c.head)) < r.wage_above_declared))
        # The household's first member aged 18-59 earns more than declared.
        order = np.flatnonzero(adult & np.isin(c.household_of, planted_h))
        _, first = np.unique(c.household_of[order], return_index=True)
        earners = order[first]
        wage[earners] += r.wage_raise_per_member_yuan * 100 * c.size[c.household_of[earners]]
        self.truth.add(c, earners, "wages", "wage_above_declared")
        paid = np.flatnonzero(wage > 0)
        return {
            "id_number": self._ids(paid),
            "month": _repeat(self.month, len(paid)),
            "gross_wage": wage[paid],
        }

    def social_insurance(self, rng: np.random.Generator) -> Columns:
        c = self.c
        share = self.rates.social_insurance_share
        paid = c.p("social_insurance_paid").astype(np.int64)
        contributors = self._pick(rng, paid > 0, share)
        total = paid[contributors]
        pension = total * 80 // 105
        medical = total * 20 // 105
        unemployment = total - pension - medical
        pensioners = self._pick(rng, c.p("pension_income") > 0, share)  # women retire from 50
        parts: list[Columns] = [
            {
                "id_number": self._ids(contributors),
                "item": _repeat(item, len(contributors)),
                "amount": amount,
            }
            for item, amount in (
                ("pension_contribution", pension),
                ("medical_contribution", medical),
                ("unemployment_contribution", unemployment),
            )
        ]
        parts.append(
            {
                "id_number": self._ids(pensioners),
                "item": _repeat("pension_benefit", len(pensioners)),
                "amount": c.p("pension_income")[pensioners].astype(np.int64),
            }
        )
        parts += self.incoming
        n = sum(len(p["amount"]) for p in parts)
        return {
            "id_number": pa.concat_arrays([p["id_number"] for p in parts]),
            "month": _repeat(self.month, n),
            "item": pa.concat_arrays([p["item"] for p in parts]),
            "amount": np.concatenate([p["amount"] for p in parts]),
        }

    def bank_deposits(self, rng: np.random.Generator) -> Columns:
        c, r = self.c, self.rates
        asked = np.flatnonzero(c.monitored | (rng.random(len(c.head)) < r.bank_reply_share_others))
        balance = c.h("financial_assets")[asked].astype(np.int64)
        # Dibao households passed the asset test on what they declared, so the hidden deposits
        # are what moves them across the limit (a monitored household may fail it already).
        dibao = c.h("is_dibao_recipient")[asked]
        planted = dibao & (rng.random(len(asked)) < r.deposits_above_limit)
        low, high = r.deposits_above_limit_yuan
        balance = balance + np.where(planted, _yuan(rng, low, high, len(asked)), 0)
        self.truth.add(c, self._heads_of(asked[planted]), "bank_deposits", "deposits_above_limit")
        return {
            "id_number": self._ids(self._heads_of(asked)),
            "bank": np.array(_BANKS)[rng.integers(0, len(_BANKS), len(asked))],
            "balance_date": np.full(
                len(asked), np.datetime64(delivery_date(self.month).isoformat(), "D")
            ),
            "balance": balance,
        }

    # -- health, disasters, work, disability --

    def hospital_bills(self, rng: np.random.Generator) -> Columns:
        c, r = self.c, self.rates
        cost = c.p("medical_in_policy_cost").astype(np.int64).copy()
        oop = np.minimum(
            (cost * rng.uniform(0.1, 0.35, c.n)).astype(np.int64) // 100 * 100,
            r.natural_out_of_pocket_cap_yuan * 100,
        )
        planted = rng.random(c.n) < r.large_out_of_pocket
        low, high = r.large_out_of_pocket_yuan
        big = _yuan(rng, low, high, c.n)
        oop = np.where(planted, big, oop)
        cost = np.where(planted, np.maximum(cost, big * 2), cost)
        self.truth.add(c, np.flatnonzero(planted), "hospital_bills", "large_out_of_pocket")
        billed = np.flatnonzero(cost > 0)
        return {
            "id_number": self._ids(billed),
            "admission_date": _days_in(rng, self.month, len(billed)),
            "in_policy_cost": cost[billed],
            "out_of_pocket": oop[billed],
        }

    def disaster_victims(self, rng: np.random.Generator) -> Columns:
        c, r = self.c, self.rates
        villages = max(len(c.head) // r.village_households, 1)
        hit = np.sort(rng.choice(villages, size=min(r.disaster_villages, villages), replace=False))
        village = np.arange(len(c.head)) // r.village_households
        households = np.flatnonzero(np.isin(village, hit))
        heads = self._heads_of(households)
        self.truth.add(c, heads, "disaster_victims", "disaster_victim")
        day = _days_in(rng, self.month, len(hit))  # one disaster per village
        which = np.searchsorted(hit, village[households])
        damage = rng.choice(len(DISASTER_DAMAGES), len(households), p=[0.05, 0.35, 0.5, 0.1])
        low = np.array([80_000, 5_000, 1_000, 2_000])[damage]
        high = np.array([200_000, 50_000, 20_000, 30_000])[damage]
        return {
            "id_number": self._ids(heads),
            "disaster_id": np.char.add(f"DZ-{c.code}-{self.month}-", hit[which].astype(str)),
            "disaster_date": day[which],
            "damage": np.array(DISASTER_DAMAGES)[damage],
            "loss": rng.integers(low, high + 1).astype(np.int64) * 100,
        }

    def unemployment_registration(self, rng: np.random.Generator) -> Columns:
        c = self.c
        registered = c.p("unemployment_registered").astype(bool)
        drawn = c.p("unemployment_months_drawn").astype(np.int64)
        new = np.flatnonzero(registered & (drawn == 0))
        ended = self._pick(rng, registered & (drawn > 0), self.rates.unemployment_ended)
        persons = np.concatenate([new, ended])
        return {
            "id_number": self._ids(persons),
            "registered_date": _days_in(rng, self.month, len(persons)),
            "status": np.array(["registered"] * len(new) + ["ended"] * len(ended)),
        }

    def disability_certificates(self, rng: np.random.Generator) -> Columns:
        c = self.c
        grade = c.p("disability_grade").astype(np.int64)
        holders = self._pick(rng, grade > 0, self.rates.certificate_renewal)
        category = c.p("disability_category").astype(np.int64)[holders]
        names = np.array(FIELDS.get("disability_category").choices)
        ids = self._ids(holders)
        certificate = pc.binary_join_element_wise(
            ids,
            pa.array(category.astype(str)),
            pa.array(grade[holders].astype(str)),
            "",
        )
        return {
            "id_number": ids,
            "certificate_no": certificate,
            "issued_date": _days_in(rng, self.month, len(holders)),
            "category": names[category],
            "grade": grade[holders].astype(np.int8),
        }


def _joined(*parts: str | np.ndarray) -> pa.Array:
    """Texts made of constant parts and the digits of integer arrays, element by element."""
    n = next(len(p) for p in parts if isinstance(p, np.ndarray))
    texts = [
        _repeat(p, n) if isinstance(p, str) else pc.cast(pa.array(p.astype(np.int64)), pa.string())
        for p in parts
    ]
    joined: pa.Array = pc.binary_join_element_wise(*texts, "")
    return joined


def _repeat(text: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(text, pa.string()), n)


def _county_codes(exclude: str) -> np.ndarray:
    registry = default_registry()
    codes = [r.code for r in registry.regions(RegionLevel.COUNTY) if r.code != exclude]
    return np.array(codes)


def _fresh_ids(
    county: str, born: np.ndarray, male: BoolArray, first_rank: int, data: _County
) -> np.ndarray:
    """Identity numbers of persons outside the snapshot (new-born children, spouses from
    elsewhere): their sequences start after ``first_rank`` persons of the same birth date and
    sex, far above the snapshot's own; one that still meets a snapshot number, or runs past
    999, is returned as "" and left out."""
    if not len(born):
        return np.zeros(0, dtype="U18")
    numbers = identity_numbers(county, born, male)  # sequences 2·rank + 1 (men) or + 2 (women)
    fresh = []
    for number in numbers:
        sequence = int(number[14:17]) + 2 * first_rank
        first17 = f"{number[:14]}{sequence:03d}"
        fresh.append(first17 + check_character(first17) if sequence <= 999 else "")
    result = np.array(fresh, dtype="U18")
    taken = pc.is_in(data.ids, value_set=pa.array(result, pa.string()))
    clashing = set(data.ids.filter(taken).to_pylist())
    return np.array(["" if number in clashing else number for number in result], dtype="U18")


# -- writing -----------------------------------------------------------------------------------


def _write(
    out_root: Path,
    spec: FeedSpec,
    county: str,
    columns: Columns,
    delivered: dt.date,
    rates: FeedRates,
    seed: int,
) -> tuple[int, int]:
    """Append the bad rows, write the file; (rows in the file, bad rows among them)."""
    arrays = {"id_number": _arrow("text", columns["id_number"])}
    for feed_field in spec.fields:
        name = feed_field.column.name
        arrays[name] = _arrow(feed_field.parser, columns[name])
    table = pa.table(arrays)
    n = table.num_rows
    bad = min(rates.bad_rows, len(BAD_ROWS)) if n else 0
    if bad:
        first = table.slice(0, 1).to_pylist()[0]
        rows = []
        for what in BAD_ROWS[:bad]:
            row = dict(first)
            rows.append(row)
            if what == "bad_check_character":
                number = row["id_number"]
                row["id_number"] = number[:17] + ("0" if number[17] != "0" else "1")
            elif what == "after_delivery":
                _after_delivery(spec, row, delivered)
            elif what == "unknown_person":
                first17 = f"{_UNKNOWN_REGION}19700101{100 + (seed % 800):03d}"
                row["id_number"] = first17 + check_character(first17)
        table = pa.concat_tables([table, pa.Table.from_pylist(rows, schema=table.schema)])
    path = feed_path(out_root, spec.kind, county)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)
    return n + bad, bad


def _after_delivery(spec: FeedSpec, row: dict[str, Any], delivered: dt.date) -> None:
    """Move the row's first date 10 days past the delivery date, or its month to the next one."""
    for feed_field in spec.fields:
        name = feed_field.column.name
        if feed_field.parser == "date":
            row[name] = delivered + dt.timedelta(days=10)
            return
        if feed_field.parser == "month":
            year, number = delivered.year + delivered.month // 12, delivered.month % 12 + 1
            row[name] = f"{year:04d}-{number:02d}"
            return


def _arrow(parser: str, values: Any) -> pa.Array:
    """A column in the file's type: dates date32, amounts decimal(18, 2) yuan (from fen),
    areas decimal(12, 2) m² (from dm²), grades int8, everything else text."""
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    if parser == "date":
        return pa.array(values.astype("datetime64[D]"), pa.date32())
    if parser in ("money", "area"):
        return _decimal(values.astype(np.int64), 18 if parser == "money" else 12)
    if parser == "grade":
        return pa.array(values.astype(np.int8), pa.int8())
    return pa.array(values.astype(str), pa.string())


def _decimal(hundredths: IntArray, precision: int) -> pa.Array:
    """Integer hundredths as decimal(precision, 2) without arithmetic: the unscaled value of a
    decimal is the integer itself (128-bit little-endian, sign-extended)."""
    words = np.empty((len(hundredths), 2), dtype=np.int64)
    words[:, 0] = hundredths
    words[:, 1] = np.where(hundredths < 0, -1, 0)
    return pa.Array.from_buffers(
        pa.decimal128(precision, 2), len(hundredths), [None, pa.py_buffer(words.tobytes())]
    )
