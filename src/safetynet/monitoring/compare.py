"""Economic status comparison: one county's declared facts against its department feed records.

``compare_county`` is a pure function of one county's snapshot (``CountyData``), the accepted feed
records of its persons (the long shape of ``monitoring.records``), the month and the parameters.
It returns

- ``differences``: one row per fact where a feed disagrees with what the household declared, or
  reports an event the registry does not show (a death, a birth, a new business, a hospital stay);
- ``effects``: for each household with a difference that the rules core reads (income, assets,
  vehicles, homes, deaths, disability, unemployment registration), the programs re-evaluated by the
  real engine on the declared facts and on the feed-corrected facts, side by side;
- ``standard_tests``: the dibao income and asset tests of the same two evaluations (which side of
  the standard per-capita counted income falls on, whether the assets pass);
- ``consulted``: every source consulted per household, with its record count.

Everything is columnar (Polars/NumPy); the rules core is called once on the declared and once on
the corrected facts of the affected households only. The windows and tolerances are parameters
under ``assistance.monitoring.comparison`` (docs/monitoring.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from safetynet.errors import InputError
from safetynet.monitoring.records import FEED_RECORD_SCHEMA
from safetynet.policy.engine import Params, evaluate_all, monitored_programs
from safetynet.policy.population import FIELDS, Population, declare_all_fields
from safetynet.registry.county_data import CountyData

__all__ = [
    "CONSULTED_SCHEMA",
    "CORRECTING_ITEMS",
    "DIFFERENCE_SCHEMA",
    "EFFECT_SCHEMA",
    "STANDARD_TEST_SCHEMA",
    "Comparison",
    "compare_county",
    "month_end",
    "months_back",
]

P = "assistance.monitoring.comparison."
BENEFIT_CODES = ("pension_benefit", "unemployment_benefit", "work_injury_benefit")
CONTRIBUTION_CODES = ("pension_contribution", "medical_contribution", "unemployment_contribution")
# Items the rules core reads: a household with one of these is re-evaluated with the found value.
CORRECTING_ITEMS = frozenset(
    {
        "wage_income",
        "pension_income",
        "social_insurance_paid",
        "financial_assets",
        "vehicles",
        "homes",
        "alive",
        "disability_grade",
        "unemployment_registered",
    }
)

DIFFERENCE_SCHEMA = pa.schema(
    [
        pa.field("household_id", pa.int64(), nullable=False),
        pa.field("person_id", pa.int64()),  # null for a household fact (assets, vehicles, homes)
        pa.field("id_number", pa.string()),  # the person's; shown only masked
        pa.field("kind", pa.string(), nullable=False),  # the feed kind (source)
        pa.field("item", pa.string(), nullable=False),
        pa.field("unit", pa.string(), nullable=False),  # fen/month, fen, count, flag, grade, region
        pa.field("declared", pa.int64(), nullable=False),
        pa.field("found", pa.int64(), nullable=False),
        pa.field("event_date", pa.date32()),  # the latest record behind the finding
        pa.field("reference", pa.string()),  # child's or spouse's id, company, disaster, bank
        pa.field("code", pa.string()),  # disability category, marriage event, disaster damage
        pa.field("amount_fen", pa.int64()),  # value of vehicles, capital, in-policy cost
        pa.field("is_recipient", pa.bool_(), nullable=False),  # dibao or tekun now
        pa.field("is_monitored", pa.bool_(), nullable=False),  # recipient, marginal or monitored
    ]
)
EFFECT_SCHEMA = pa.schema(
    [
        pa.field("household_id", pa.int64(), nullable=False),
        pa.field("program", pa.string(), nullable=False),
        pa.field("declared_eligible", pa.bool_(), nullable=False),
        pa.field("declared_amount_fen", pa.int64(), nullable=False),
        pa.field("found_eligible", pa.bool_(), nullable=False),
        pa.field("found_amount_fen", pa.int64(), nullable=False),
        pa.field("changed", pa.bool_(), nullable=False),
    ]
)
STANDARD_TEST_SCHEMA = pa.schema(
    [
        pa.field("household_id", pa.int64(), nullable=False),
        pa.field("standard_fen", pa.int64(), nullable=False),  # dibao standard per person
        pa.field("declared_members", pa.int64(), nullable=False),
        pa.field("found_members", pa.int64(), nullable=False),
        pa.field("declared_per_capita_fen", pa.int64(), nullable=False),
        pa.field("found_per_capita_fen", pa.int64(), nullable=False),
        pa.field("declared_below_standard", pa.bool_(), nullable=False),
        pa.field("found_below_standard", pa.bool_(), nullable=False),
        pa.field("declared_assets_ok", pa.bool_(), nullable=False),
        pa.field("found_assets_ok", pa.bool_(), nullable=False),
        # the asset test on financial assets alone (vehicles and homes left out), declared facts
        # with the declared and with the found deposits; true where no deposits were found
        pa.field("declared_financial_ok", pa.bool_(), nullable=False),
        pa.field("found_financial_ok", pa.bool_(), nullable=False),
    ]
)
CONSULTED_SCHEMA = pa.schema(
    [
        pa.field("household_id", pa.int64(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("records", pa.int64(), nullable=False),
    ]
)


@dataclass(frozen=True)
class Comparison:
    """What the comparison of one county found (pure data)."""

    county: str
    month: dt.date
    households: int
    persons: int
    records_read: int
    records_matched: int  # records of persons in the snapshot (the others are not this county's)
    differences: pa.Table
    effects: pa.Table
    standard_tests: pa.Table
    consulted: pa.Table
    programs: tuple[str, ...]


def month_end(month: dt.date) -> dt.date:
    first = month.replace(day=1)
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def months_back(month: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months before ``month``."""
    index = month.year * 12 + month.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_text(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


_FRAME_SCHEMA: dict[str, Any] = {
    "row": pl.Int64,  # person row, or -1 for a household fact
    "hh": pl.Int64,  # household row
    "kind": pl.String,
    "item": pl.String,
    "unit": pl.String,
    "declared": pl.Int64,
    "found": pl.Int64,
    "event_date": pl.Date,
    "reference": pl.String,
    "code": pl.String,
    "amount_fen": pl.Int64,
}


def _frame(df: pl.DataFrame, kind: str, item: str, unit: str) -> pl.DataFrame:
    """Give a finding the common columns (missing ones null) in the common order."""
    df = df.with_columns(kind=pl.lit(kind), item=pl.lit(item), unit=pl.lit(unit))
    cols = [
        pl.col(name).cast(dtype) if name in df.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in _FRAME_SCHEMA.items()
    ]
    return df.select(cols)


def _with(df: pl.DataFrame, name: str, values: np.ndarray) -> pl.DataFrame:
    return df.with_columns(pl.Series(name, values))


class _Context:
    """The arrays and dates every finding reads."""

    def __init__(self, data: CountyData, month: dt.date, p: Params) -> None:
        self.data = data
        self.pop = data.population
        self.start = month.replace(day=1)
        self.end = month_end(month)
        self.window_start = months_back(self.start, p.int(P + "event_months") - 1)
        n_income = p.int(P + "income_months")
        self.income_months = [_month_text(months_back(self.start, i)) for i in range(n_income)]
        self.tolerance = p.fen(P + "income_tolerance")
        self.vehicle_min = p.fen(P + "vehicle_min_value")

    def in_window(self, df: pl.DataFrame) -> pl.DataFrame:
        return df.filter(pl.col("event_date").is_between(self.window_start, self.end))

    def until_end(self, df: pl.DataFrame) -> pl.DataFrame:
        return df.filter(pl.col("event_date") <= self.end)

    def person(self, name: str, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.pop.p(name)[rows], dtype=np.int64)

    def household(self, name: str, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.pop.h(name)[rows], dtype=np.int64)


def _monthly(ctx: _Context, df: pl.DataFrame, item: str, kind: str) -> pl.DataFrame:
    """The monthly amount found per person (mean over the feed months present in the window),
    where it differs from the declared monthly amount by more than the tolerance."""
    if df.is_empty():
        return _frame(df, kind, item, "fen/month")
    per_month = df.group_by("row", "month").agg(pl.col("amount_fen").sum())
    g = per_month.group_by("row").agg(
        total=pl.col("amount_fen").sum(), months=pl.len(), last=pl.col("month").max()
    )
    rows = g["row"].to_numpy()
    found = g["total"].to_numpy() // g["months"].to_numpy()
    declared = ctx.person(item, rows)
    out = pl.DataFrame({"row": rows, "declared": declared, "found": found})
    out = out.filter((pl.col("found") - pl.col("declared")).abs() > ctx.tolerance)
    return _frame(out, kind, item, "fen/month")


def _wages(ctx: _Context, rec: pl.DataFrame) -> list[pl.DataFrame]:
    df = rec.filter(pl.col("month").is_in(ctx.income_months))
    # One wage per person and month: a later delivery of the same month replaces an earlier one.
    df = df.unique(subset=["row", "month"], keep="last", maintain_order=True)
    return [_monthly(ctx, df, "wage_income", "wages")]


def _social_insurance(ctx: _Context, rec: pl.DataFrame) -> list[pl.DataFrame]:
    df = rec.filter(pl.col("month").is_in(ctx.income_months))
    df = df.unique(subset=["row", "month", "code"], keep="last", maintain_order=True)
    benefits = df.filter(pl.col("code").is_in(BENEFIT_CODES))
    contributions = df.filter(pl.col("code").is_in(CONTRIBUTION_CODES))
    return [
        _monthly(ctx, benefits, "pension_income", "social_insurance"),
        _monthly(ctx, contributions, "social_insurance_paid", "social_insurance"),
    ]


def _deposits(ctx: _Context, rec: pl.DataFrame) -> list[pl.DataFrame]:
    # The latest balance of each account (person and bank) up to the end of the month.
    df = ctx.until_end(rec).sort("event_date", maintain_order=True)
    df = df.unique(subset=["row", "reference"], keep="last", maintain_order=True)
    g = df.group_by("hh").agg(
        found=pl.col("amount_fen").sum(), event_date=pl.col("event_date").max()
    )
    hh = g["hh"].to_numpy()
    g = _with(g, "declared", ctx.household("financial_assets", hh))
    g = g.with_columns(row=pl.lit(-1, pl.Int64)).filter(pl.col("found") > pl.col("declared"))
    return [_frame(g, "bank_deposits", "financial_assets", "fen")]


def _registrations(
    ctx: _Context, df: pl.DataFrame, kind: str, item: str, minimum: int | None = None
) -> list[pl.DataFrame]:
    """Vehicles or properties registered to members, counted per household, against the declared
    count (only more than declared is a difference)."""
    df = ctx.until_end(df)
    if minimum is not None:
        df = df.filter(pl.col("amount_fen").fill_null(0) >= minimum)
    df = df.unique(subset=["hh", "reference"], keep="last", maintain_order=True)
    g = df.group_by("hh").agg(
        found=pl.len().cast(pl.Int64),
        amount_fen=pl.col("amount_fen").sum(),
        event_date=pl.col("event_date").max(),
    )
    g = _with(g, "declared", ctx.household(item, g["hh"].to_numpy()))
    g = g.with_columns(row=pl.lit(-1, pl.Int64)).filter(pl.col("found") > pl.col("declared"))
    return [_frame(g, kind, item, "count")]


def _business(ctx: _Context, rec: pl.DataFrame) -> list[pl.DataFrame]:
    df = ctx.in_window(rec).unique(subset=["row", "reference"], keep="last", maintain_order=True)
    g = df.group_by("row", "hh").agg(
        found=pl.len().cast(pl.Int64),
        amount_fen=pl.col("amount_fen").sum(),
        event_date=pl.col("event_date").max(),
        reference=pl.col("reference").sort_by("event_date").last(),
    )
    g = g.with_columns(declared=pl.lit(0, pl.Int64))
    return [_frame(g, "business", "business_registrations", "count")]


def _deaths(ctx: _Context, rec: pl.DataFrame) -> list[pl.DataFrame]:
    g = ctx.until_end(rec).group_by("row", "hh").agg(event_date=pl.col("event_date").min())
    g = g.with_columns(declared=pl.lit(1, pl.Int64), found=pl.lit(0, pl.Int64))
    return [_frame(g, "deaths", "alive", "flag")]


def _other_person(ctx: _Context, df: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """Add ``other_hh``: the household of the person named in ``reference`` (null if not here)."""
    others = persons.select(
        pl.col("id_number").alias("reference"), pl.col("row").alias("other_row")
    )
    df = df.join(others, on="reference", how="left")
    other_rows = df["other_row"].to_numpy()
    valid = ~np.isnan(other_rows.astype(np.float64))
    other_hh = np.full(len(df), -1, dtype=np.int64)
    other_hh[valid] = ctx.pop.household_of[other_rows[valid].astype(np.int64)]
    return _with(df, "other_hh", other_hh)


def _births(ctx: _Context, rec: pl.DataFrame, persons: pl.DataFrame) -> list[pl.DataFrame]:
    df = ctx.in_window(rec).unique(subset=["row", "reference"], keep="last", maintain_order=True)
    df = _other_person(ctx, df, persons).filter(pl.col("other_hh") != pl.col("hh"))
    df = df.with_columns(declared=pl.lit(0, pl.Int64), found=pl.lit(1, pl.Int64))
    return [_frame(df, "births", "birth", "flag")]


def _marriages(ctx: _Context, rec: pl.DataFrame, persons: pl.DataFrame) -> list[pl.DataFrame]:
    df = ctx.in_window(rec).sort("event_date", maintain_order=True)
    df = df.unique(subset=["row"], keep="last", maintain_order=True)
    df = _other_person(ctx, df, persons)
    together = pl.col("other_hh") == pl.col("hh")
    married = df.filter((pl.col("code") == "married") & ~together)
    divorced = df.filter((pl.col("code") == "divorced") & together)
    return [
        _frame(
            married.with_columns(declared=pl.lit(0, pl.Int64), found=pl.lit(1, pl.Int64)),
            "marriages",
            "marriage",
            "flag",
        ),
        _frame(
            divorced.with_columns(declared=pl.lit(1, pl.Int64), found=pl.lit(0, pl.Int64)),
            "marriages",
            "divorce",
            "flag",
        ),
    ]


def _hukou_moves(ctx: _Context, rec: pl.DataFrame) -> list[pl.DataFrame]:
    df = ctx.in_window(rec).sort("event_date", maintain_order=True)
    df = df.unique(subset=["row"], keep="last", maintain_order=True)
    df = df.filter(pl.col("region_code").is_not_null() & (pl.col("region_code") != ctx.data.county))
    df = df.with_columns(
        declared=pl.lit(int(ctx.data.county), pl.Int64),
        found=pl.col("region_code").cast(pl.Int64),
        code=pl.col("region_code"),
    )
    return [_frame(df, "hukou_moves", "hukou_region", "region")]


def _hospital(ctx: _Context, rec: pl.DataFrame) -> list[pl.DataFrame]:
    df = ctx.in_window(rec).unique(subset=["row", "event_date"], keep="last", maintain_order=True)
    g = df.group_by("row", "hh").agg(
        found=pl.col("second_amount_fen").sum(),
        amount_fen=pl.col("amount_fen").sum(),
        event_date=pl.col("event_date").max(),
    )
    g = g.with_columns(declared=pl.lit(0, pl.Int64)).filter(pl.col("found") > 0)
    return [_frame(g, "hospital_bills", "medical_out_of_pocket", "fen")]


def _disasters(ctx: _Context, rec: pl.DataFrame) -> list[pl.DataFrame]:
    df = ctx.in_window(rec).unique(subset=["row", "reference"], keep="last", maintain_order=True)
    g = df.group_by("row", "hh").agg(
        found=pl.col("amount_fen").fill_null(0).sum(),
        event_date=pl.col("event_date").max(),
        code=pl.col("code").sort_by("amount_fen").last(),
        reference=pl.col("reference").sort_by("amount_fen").last(),
    )
    g = g.with_columns(declared=pl.lit(0, pl.Int64))
    return [_frame(g, "disaster_victims", "disaster_loss", "fen")]


def _latest(ctx: _Context, rec: pl.DataFrame) -> pl.DataFrame:
    df = ctx.until_end(rec).sort("event_date", maintain_order=True)
    return df.unique(subset=["row"], keep="last", maintain_order=True)


def _unemployment(ctx: _Context, rec: pl.DataFrame) -> list[pl.DataFrame]:
    df = _latest(ctx, rec)
    rows = df["row"].to_numpy()
    df = _with(df, "declared", ctx.person("unemployment_registered", rows))
    df = df.with_columns(found=(pl.col("code") == "registered").cast(pl.Int64))
    df = df.filter(pl.col("found") != pl.col("declared"))
    return [_frame(df, "unemployment_registration", "unemployment_registered", "flag")]


def _disability(ctx: _Context, rec: pl.DataFrame) -> list[pl.DataFrame]:
    df = _latest(ctx, rec)
    rows = df["row"].to_numpy()
    categories = FIELDS.get("disability_category").choices
    declared_category = np.asarray(categories, dtype=object)[
        ctx.person("disability_category", rows)
    ]
    df = _with(df, "declared", ctx.person("disability_grade", rows))
    df = _with(df, "declared_category", declared_category.astype(str))
    df = df.with_columns(found=pl.col("grade").cast(pl.Int64))
    df = df.filter(
        (pl.col("found") != pl.col("declared")) | (pl.col("code") != pl.col("declared_category"))
    )
    return [_frame(df, "disability_certificates", "disability_grade", "grade")]


_Finder = Callable[[_Context, pl.DataFrame, pl.DataFrame], list[pl.DataFrame]]

# The findings of each feed kind: (context, the kind's records, the persons of the snapshot).
_FINDERS: dict[str, _Finder] = {
    "wages": lambda ctx, df, _: _wages(ctx, df),
    "social_insurance": lambda ctx, df, _: _social_insurance(ctx, df),
    "bank_deposits": lambda ctx, df, _: _deposits(ctx, df),
    "vehicles": lambda ctx, df, _: _registrations(ctx, df, "vehicles", "vehicles", ctx.vehicle_min),
    "real_estate": lambda ctx, df, _: _registrations(ctx, df, "real_estate", "homes"),
    "business": lambda ctx, df, _: _business(ctx, df),
    "deaths": lambda ctx, df, _: _deaths(ctx, df),
    "births": _births,
    "marriages": _marriages,
    "hukou_moves": lambda ctx, df, _: _hukou_moves(ctx, df),
    "hospital_bills": lambda ctx, df, _: _hospital(ctx, df),
    "disaster_victims": lambda ctx, df, _: _disasters(ctx, df),
    "unemployment_registration": lambda ctx, df, _: _unemployment(ctx, df),
    "disability_certificates": lambda ctx, df, _: _disability(ctx, df),
}


def _findings(ctx: _Context, rec: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    by_kind = {k[0]: v for k, v in rec.partition_by("kind", as_dict=True).items()}
    frames: list[pl.DataFrame] = []
    for kind, df in by_kind.items():
        finder = _FINDERS.get(str(kind))
        if finder is None:
            raise InputError("kind", f"{kind!r} is not a feed kind the comparison knows")
        frames += finder(ctx, df, persons)
    frames = [f for f in frames if not f.is_empty()]
    if not frames:
        return pl.DataFrame(schema=_FRAME_SCHEMA)
    found = pl.concat(frames, how="vertical")
    # A person's finding belongs to the person's household.
    rows = found["row"].to_numpy()
    hh = found["hh"].fill_null(-1).to_numpy()
    person_hh = ctx.pop.household_of[np.maximum(rows, 0)]
    return _with(found, "hh", np.where(rows >= 0, person_hh, hh).astype(np.int64))


# -- eligibility effects -------------------------------------------------------------------------


@dataclass
class _Results:
    eligible: dict[str, np.ndarray]
    amount: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]  # dibao outputs used by the standard tests


_DIBAO_OUTPUTS = ("members", "per_capita_income", "standard", "passes_asset_test")


def _evaluate(
    pop: Population,
    regions: np.ndarray,
    month: dt.date,
    programs: Sequence[str],
    overrides: Mapping[str, Any] | None,
    fallbacks: Mapping[str, Any] | None,
) -> _Results:
    """The programs over ``pop`` with each household's regional parameters (the rules core)."""
    n = pop.n_households
    res = _Results(
        {pid: np.zeros(n, np.bool_) for pid in programs},
        {pid: np.zeros(n, np.int64) for pid in programs},
        {},
    )
    unique = np.unique(regions)
    for region in unique:
        rows = np.flatnonzero(regions == region)
        part = pop if len(unique) == 1 else pop.take(rows)
        results = evaluate_all(
            part, month, str(region), overrides=overrides, only=programs, fallbacks=fallbacks
        )
        for pid, r in results.items():
            res.eligible[pid][rows] = r.eligible
            res.amount[pid][rows] = r.amount
            if pid == "dibao":
                for name in _DIBAO_OUTPUTS:
                    column = res.outputs.setdefault(name, np.zeros(n, r.outputs[name].dtype))
                    column[rows] = r.outputs[name]
    return res


def _corrected(sub: Population, rows_in_sub: np.ndarray, found: pl.DataFrame) -> Population:
    """A copy of ``sub`` with the found values in place of the declared ones; dead persons are
    left out (a household whose members all died keeps no row: the caller handles it)."""
    names_p = (
        "wage_income",
        "pension_income",
        "social_insurance_paid",
        "disability_grade",
        "disability_category",
        "unemployment_registered",
    )
    names_h = ("financial_assets", "vehicles", "homes")
    for name in names_p:
        sub.p(name)
    for name in names_h:
        sub.h(name)
    persons = {k: v.copy() for k, v in sub.persons.items()}
    households = {k: v.copy() for k, v in sub.households.items()}
    categories = FIELDS.get("disability_category").choices
    dead = np.zeros(sub.n_persons, np.bool_)
    for item, part in found.partition_by("item", as_dict=True).items():
        name = str(item[0])
        values = part["found"].to_numpy()
        if name in ("wage_income", "pension_income", "social_insurance_paid"):
            persons[name][rows_in_sub[part["row"].to_numpy()]] = values
        elif name == "unemployment_registered":
            persons[name][rows_in_sub[part["row"].to_numpy()]] = values.astype(np.bool_)
        elif name == "disability_grade":
            at = rows_in_sub[part["row"].to_numpy()]
            persons["disability_grade"][at] = values
            codes = [categories.index(c) if c in categories else 0 for c in part["code"].to_list()]
            persons["disability_category"][at] = np.asarray(codes, dtype=np.int8)
        elif name == "alive":
            dead[rows_in_sub[part["row"].to_numpy()]] = True
        elif name in names_h:
            households[name][part["sub_hh"].to_numpy()] = values
    keep = ~dead
    household_of = sub.household_of[keep]
    remaining = np.unique(household_of)
    return Population(
        persons={k: v[keep] for k, v in persons.items()},
        households={k: v[remaining] for k, v in households.items()},
        household_of=np.searchsorted(remaining, household_of).astype(np.int64),
    )


def _effects(
    data: CountyData,
    found: pl.DataFrame,
    month: dt.date,
    programs: Sequence[str],
    overrides: Mapping[str, Any] | None,
    fallbacks: Mapping[str, Any] | None,
) -> tuple[pa.Table, pa.Table]:
    pop = data.population
    found = found.filter(pl.col("item").is_in(list(CORRECTING_ITEMS)))
    hh_rows = np.unique(found["hh"].to_numpy())
    if len(hh_rows) == 0:
        return EFFECT_SCHEMA.empty_table(), STANDARD_TEST_SCHEMA.empty_table()
    sub = pop.take(hh_rows)
    person_rows = pop.person_rows(hh_rows)
    rows_in_sub = np.full(pop.n_persons, -1, dtype=np.int64)
    rows_in_sub[person_rows] = np.arange(len(person_rows))
    found = _with(found, "sub_hh", np.searchsorted(hh_rows, found["hh"].to_numpy()))
    regions = np.asarray(data.region)[hh_rows]
    corrected = _corrected(sub, rows_in_sub, found)
    before = _evaluate(sub, regions, month, programs, overrides, fallbacks)
    # Households of which someone is still alive, as indices into ``hh_rows``.
    alive_hh = _alive_households(sub, rows_in_sub, found)
    after_part = _evaluate(corrected, regions[alive_hh], month, programs, overrides, fallbacks)
    after = _widened(after_part, alive_hh, len(hh_rows), programs)
    household_id = data.household_id[hh_rows]
    effects = _effect_table(household_id, programs, before, after)
    if "dibao" not in programs:
        return effects, STANDARD_TEST_SCHEMA.empty_table()
    financial = _financial_tests(sub, regions, found, month, overrides, fallbacks)
    return effects, _standard_tests(household_id, before, after, financial)


def _widened(part: _Results, alive_hh: np.ndarray, n: int, programs: Sequence[str]) -> _Results:
    """The results of the households still alive spread over all ``n`` affected households
    (not eligible, no amount, zero outputs where all members died)."""
    after = _Results(
        {pid: np.zeros(n, np.bool_) for pid in programs},
        {pid: np.zeros(n, np.int64) for pid in programs},
        {},
    )
    for pid in programs:
        after.eligible[pid][alive_hh] = part.eligible[pid]
        after.amount[pid][alive_hh] = part.amount[pid]
    for name, column in part.outputs.items():
        full = np.zeros(n, column.dtype)
        full[alive_hh] = column
        after.outputs[name] = full
    return after


def _effect_table(
    household_id: np.ndarray, programs: Sequence[str], before: _Results, after: _Results
) -> pa.Table:
    """EFFECT_SCHEMA: each program on the declared and on the found facts, by household."""
    n = len(household_id)
    tables = []
    for pid in programs:
        changed = (before.eligible[pid] != after.eligible[pid]) | (
            before.amount[pid] != after.amount[pid]
        )
        tables.append(
            pa.table(
                {
                    "household_id": household_id,
                    "program": pa.repeat(pa.scalar(pid, pa.string()), n),
                    "declared_eligible": before.eligible[pid],
                    "declared_amount_fen": before.amount[pid],
                    "found_eligible": after.eligible[pid],
                    "found_amount_fen": after.amount[pid],
                    "changed": changed,
                },
                schema=EFFECT_SCHEMA,
            )
        )
    return pa.concat_tables(tables).sort_by([("household_id", "ascending")])


def _standard_tests(
    household_id: np.ndarray,
    before: _Results,
    after: _Results,
    financial: tuple[np.ndarray, np.ndarray],
) -> pa.Table:
    """STANDARD_TEST_SCHEMA: the dibao income and asset tests on the declared and found facts."""
    b, a = before.outputs, after.outputs
    declared_financial, found_financial = financial
    # Per-capita income is the whole-fen floor of counted income over members, so with a standard
    # in whole fen "per capita < standard" is the dibao program's own "income < standard × members".
    return pa.table(
        {
            "household_id": household_id,
            "standard_fen": b["standard"].astype(np.int64),
            "declared_members": b["members"].astype(np.int64),
            "found_members": a["members"].astype(np.int64),
            "declared_per_capita_fen": b["per_capita_income"].astype(np.int64),
            "found_per_capita_fen": a["per_capita_income"].astype(np.int64),
            "declared_below_standard": (b["members"] > 0)
            & (b["per_capita_income"] < b["standard"]),
            "found_below_standard": (a["members"] > 0) & (a["per_capita_income"] < b["standard"]),
            "declared_assets_ok": b["passes_asset_test"].astype(np.bool_),
            "found_assets_ok": a["passes_asset_test"].astype(np.bool_) | (a["members"] == 0),
            "declared_financial_ok": declared_financial,
            "found_financial_ok": found_financial,
        },
        schema=STANDARD_TEST_SCHEMA,
    )


def _financial_tests(
    sub: Population,
    regions: np.ndarray,
    found: pl.DataFrame,
    month: dt.date,
    overrides: Mapping[str, Any] | None,
    fallbacks: Mapping[str, Any] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The dibao asset test on financial assets alone, for the households where deposits were
    found: the engine's test with vehicles and homes left out, on the declared and on the found
    financial assets (everything else declared)."""
    n = sub.n_households
    declared_ok, found_ok = np.ones(n, np.bool_), np.ones(n, np.bool_)
    deposits = found.filter(pl.col("item") == "financial_assets")
    if deposits.is_empty():
        return declared_ok, found_ok
    rows = deposits["sub_hh"].to_numpy()
    part = sub.take(rows)
    for name in ("vehicles", "homes"):
        part.households[name] = np.zeros(len(rows), dtype=np.int64)
    declared = _evaluate(part, regions[rows], month, ("dibao",), overrides, fallbacks)
    part.households["financial_assets"] = deposits["found"].to_numpy().astype(np.int64)
    with_found = _evaluate(part, regions[rows], month, ("dibao",), overrides, fallbacks)
    declared_ok[rows] = declared.outputs["passes_asset_test"]
    found_ok[rows] = with_found.outputs["passes_asset_test"]
    return declared_ok, found_ok


def _alive_households(sub: Population, rows_in_sub: np.ndarray, found: pl.DataFrame) -> np.ndarray:
    """Indices (into the affected households) of those with at least one member not dead."""
    dead = np.zeros(sub.n_persons, np.bool_)
    deaths = found.filter(pl.col("item") == "alive")
    if not deaths.is_empty():
        dead[rows_in_sub[deaths["row"].to_numpy()]] = True
    return np.unique(sub.household_of[~dead])


# -- the comparison ------------------------------------------------------------------------------


def _records_frame(records: pa.Table) -> pl.DataFrame:
    missing = [f.name for f in FEED_RECORD_SCHEMA if f.name not in records.column_names]
    if missing:
        raise InputError("records", f"columns missing from the feed records: {', '.join(missing)}")
    frame = pl.from_arrow(records.select(FEED_RECORD_SCHEMA.names).cast(FEED_RECORD_SCHEMA))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _differences(data: CountyData, found: pl.DataFrame) -> pa.Table:
    """DIFFERENCE_SCHEMA: the findings with their household, person and identity number, and
    whether the household receives or is monitored."""
    pop = data.population
    tekun = pop.any_h(np.asarray(pop.p("is_tekun_recipient"), np.bool_))
    recipient = np.asarray(pop.h("is_dibao_recipient"), np.bool_) | tekun
    monitored = (
        recipient
        | np.asarray(pop.h("is_dibao_marginal_registered"), np.bool_)
        | np.asarray(pop.h("is_low_income_monitored"), np.bool_)
    )
    rows = found["row"].to_numpy()
    hh = found["hh"].to_numpy()
    is_person = rows >= 0
    person_id = np.where(is_person, data.person_id[np.maximum(rows, 0)], 0)
    id_numbers = np.asarray(data.id_number).astype(object)[np.maximum(rows, 0)]
    differences = pa.table(
        {
            "household_id": data.household_id[hh],
            "person_id": pa.array(person_id, pa.int64(), mask=~is_person),
            "id_number": pa.array(id_numbers.astype(str), pa.string(), mask=~is_person),
            "kind": found["kind"].to_arrow(),
            "item": found["item"].to_arrow(),
            "unit": found["unit"].to_arrow(),
            "declared": found["declared"].to_arrow(),
            "found": found["found"].to_arrow(),
            "event_date": found["event_date"].to_arrow(),
            "reference": found["reference"].to_arrow(),
            "code": found["code"].to_arrow(),
            "amount_fen": found["amount_fen"].to_arrow(),
            "is_recipient": recipient[hh],
            "is_monitored": monitored[hh],
        }
    )
    return differences.cast(DIFFERENCE_SCHEMA).sort_by(
        [("household_id", "ascending"), ("kind", "ascending"), ("item", "ascending")]
    )


def _consulted(data: CountyData, rec: pl.DataFrame) -> pa.Table:
    """CONSULTED_SCHEMA: the records consulted per household and feed kind."""
    consulted_frame = (
        rec.group_by("hh", "kind").agg(records=pl.len().cast(pl.Int64)).sort("hh", "kind")
    )
    return pa.table(
        {
            "household_id": data.household_id[consulted_frame["hh"].to_numpy()],
            "kind": consulted_frame["kind"].to_arrow(),
            "records": consulted_frame["records"].to_arrow(),
        },
        schema=CONSULTED_SCHEMA,
    )


def compare_county(
    data: CountyData,
    records: pa.Table,
    month: dt.date,
    *,
    overrides: Mapping[str, Any] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
    programs: Sequence[str] | None = None,
) -> Comparison:
    """Compare one county's declared facts with its feed records for ``month`` (a pure function).

    ``records`` holds accepted feed rows (``FEED_RECORD_SCHEMA``); rows of persons not in ``data``
    are not this county's and are only counted. ``programs`` are re-evaluated for the households
    whose differences the rules core reads.
    """
    declare_all_fields()
    if data.id_number is None:
        raise InputError("id_number", f"county {data.county}: the snapshot has no identity numbers")
    pop = data.population
    params = Params(month, data.county, None, overrides, fallbacks)
    ctx = _Context(data, month, params)
    persons = pl.DataFrame(
        {
            "id_number": pl.Series(np.asarray(data.id_number).astype(str), dtype=pl.String),
            "row": np.arange(pop.n_persons, dtype=np.int64),
        }
    )
    rec = _records_frame(records)
    rec = rec.join(persons, on="id_number", how="inner")
    rec = _with(rec, "hh", pop.household_of[rec["row"].to_numpy()])
    found = _findings(ctx, rec, persons)

    differences = _differences(data, found)
    programs = monitored_programs() if programs is None else tuple(programs)
    effects, standards = _effects(data, found, month, programs, overrides, fallbacks)
    consulted = _consulted(data, rec)
    # Polars' joins run in threads: sort, so that the same inputs give the same tables (and the
    # alerts raised from them the same order) whatever the scheduling.
    differences = differences.sort_by(
        [(c, "ascending") for c in ("household_id", "kind", "item", "person_id", "event_date",
                                    "reference")]
    )  # fmt: skip
    effects = effects.sort_by([("household_id", "ascending"), ("program", "ascending")])
    return Comparison(
        county=data.county,
        month=month.replace(day=1),
        households=pop.n_households,
        persons=pop.n_persons,
        records_read=records.num_rows,
        records_matched=rec.height,
        differences=differences,
        effects=effects,
        standard_tests=standards,
        consulted=consulted,
        programs=tuple(programs),
    )
