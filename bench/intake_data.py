"""Input files for the intake benchmark (bench/intake.py), written from a synthetic population
(``safetynet synth``, Parquet by county) as a county office or an agency would deliver them.

- ``write_households``: the household list (户编号, 姓名, 身份证号, 与户主关系, …), one row per person,
  with the person facts the population carries, each member's wage of the month and the
  household's deposits on its head's row;
- ``write_accounts``: one social-security-card account per household (the head holds it) for
  the first ``n`` households, in the account import format (docs/payments.md);
- ``write_contributions``: ``n`` monthly contribution rows (person, scheme, place, month) for the
  persons of working age, months from January 2024 on, bases within the 60-300 % clamp of the
  average wage the benchmark sets (``AVERAGE_WAGE_YUAN``).

The household numbers are those ``safetynet import caseload --everyone`` gives (``S<id>``) so
that accounts and contributions refer to households and persons of a registry loaded that way.
Each file has ``bad`` planted bad rows (a wrong check character, an unknown bank, a month before
the person turned 16, …), so that the quarantine path is timed too. Deterministic for a seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

AVERAGE_WAGE_YUAN = 8_000  # set with --set for the clamp checks [I]
RELATION_WORDS = ("户主", "配偶", "子女", "父母", "孙子女", "祖父母", "兄弟姐妹", "其他")
DISABILITY_WORDS = ("无", "视力", "听力", "言语", "肢体", "智力", "精神", "多重")
HUKOU_WORDS = ("城镇", "农村")
SEX_WORDS = ("男", "女")
CARD_BANKS = ("102", "103", "104", "105", "403")


def _part(snapshot: Path, entity: str, county: str | None) -> Path:
    return snapshot / entity / f"county={county}" if county else snapshot / entity


def _persons(snapshot: Path, county: str | None = None) -> pl.DataFrame:
    return pl.read_parquet(
        _part(snapshot, "persons", county),
        columns=["household_id", "person_id", "id_number", "birth_date", "sex", "relation",
                 "disability_category", "disability_grade", "has_serious_illness", "wage_income"],
    )  # fmt: skip


def _households(snapshot: Path, county: str | None = None) -> pl.DataFrame:
    return pl.read_parquet(
        _part(snapshot, "households", county),
        columns=["household_id", "region", "hukou_type", "financial_assets"],
    )


def _yuan(fen: pl.Expr) -> pl.Expr:
    """Fen as the yuan text an office types: 3200 or 3200.5 or 3200.05."""
    whole = (fen // 100).cast(pl.Utf8)
    cents = fen % 100
    return (
        pl.when(cents == 0)
        .then(whole)
        .otherwise(whole + "." + cents.cast(pl.Utf8).str.zfill(2).str.strip_suffix("0"))
    )


def _word(codes: pl.Expr, words: tuple[str, ...]) -> pl.Expr:
    return codes.cast(pl.Int64).replace_strict(list(range(len(words))), list(words))


def _wrong_check(id_number: pl.Expr) -> pl.Expr:
    """The number with its check character replaced by another one."""
    last = id_number.str.slice(17, 1)
    return id_number.str.slice(0, 17) + pl.when(last == "1").then(pl.lit("2")).otherwise(
        pl.lit("1")
    )


def write_households(
    snapshot: Path, out: Path, month: str, *, bad: int = 4, county: str | None = None
) -> int:
    """The household list of the whole snapshot (or of ``county``); returns the rows written."""
    persons = _persons(snapshot, county).join(
        _households(snapshot, county), on="household_id", how="left"
    )
    head = pl.col("relation") == 0
    born = pl.col("birth_date").cast(pl.Utf8)
    table = persons.select(
        pl.format("S{}", pl.col("household_id")).alias("户编号"),
        pl.format("合成居民{}", pl.col("person_id")).alias("姓名"),
        pl.col("id_number").alias("身份证号"),
        _word(pl.col("relation"), RELATION_WORDS).alias("与户主关系"),
        pl.col("region").alias("户籍地"),
        _word(pl.col("hukou_type"), HUKOU_WORDS).alias("户籍性质"),
        _word(pl.col("sex"), SEX_WORDS).alias("性别"),
        (born.str.slice(0, 4) + "-" + born.str.slice(4, 2) + "-" + born.str.slice(6, 2)).alias(
            "出生日期"
        ),
        _word(pl.col("disability_category"), DISABILITY_WORDS).alias("残疾类别"),
        pl.col("disability_grade").cast(pl.Utf8).alias("残疾等级"),
        pl.when(pl.col("has_serious_illness"))
        .then(pl.lit("是"))
        .otherwise(pl.lit("否"))
        .alias("重病"),
        pl.when(pl.col("wage_income") > 0)
        .then(_yuan(pl.col("wage_income")))
        .otherwise(pl.lit(""))
        .alias("月工资"),
        pl.when(pl.col("wage_income") > 0)
        .then(pl.lit(month))
        .otherwise(pl.lit(""))
        .alias("收入月份"),
        pl.when(head).then(_yuan(pl.col("financial_assets"))).otherwise(pl.lit("")).alias("存款"),
    )
    if bad and table.height > 10 * bad:
        # Spread the bad rows over the file: a wrong check character, a missing name, an unknown
        # relation word, a sex contradicting the identity number.
        at = np.linspace(table.height // (bad + 1), table.height - 1, bad).astype(np.int64)
        idx = pl.int_range(pl.len())
        kind = [int(i) for i in at]
        table = table.with_columns(
            pl.when(idx == kind[0])
            .then(_wrong_check(pl.col("身份证号")))
            .otherwise(pl.col("身份证号"))
            .alias("身份证号"),
            pl.when(idx == kind[1 % bad]).then(pl.lit("")).otherwise(pl.col("姓名")).alias("姓名"),
            pl.when(idx == kind[2 % bad])
            .then(pl.lit("邻居"))
            .otherwise(pl.col("与户主关系"))
            .alias("与户主关系"),
        )
    _write_csv(table, out)
    return table.height


def write_accounts(snapshot: Path, out: Path, n: int, valid_from: str, *, seed: int = 1,
                   bad: int = 4) -> int:  # fmt: skip
    """One account per household for the first ``n`` households (the head holds the card)."""
    heads = (
        _persons(snapshot)
        .filter(pl.col("relation") == 0)
        .unique("household_id", keep="first", maintain_order=True)
        .join(_households(snapshot), on="household_id")
        .sort("household_id")
        .head(n)
    )
    rng = np.random.default_rng([seed, 20250901])
    banks = rng.integers(0, len(CARD_BANKS), heads.height)
    bodies = rng.integers(0, 10**13, heads.height)
    cards = [f"621{int(b):02d}{int(x):013d}" for b, x in zip(banks, bodies, strict=True)]
    table = heads.select(
        pl.col("region").alias("行政区划代码"),
        pl.format("S{}", pl.col("household_id")).alias("户编号"),
        pl.col("id_number").alias("持卡人身份证号"),
        pl.format("合成居民{}", pl.col("person_id")).alias("持卡人姓名"),
        pl.Series("开户行行号", [CARD_BANKS[int(b)] for b in banks]),
        pl.Series("社保卡银行账号", cards),
        pl.lit(valid_from).alias("启用日期"),
    )
    if bad and table.height > 10 * bad:
        at = [int(i) for i in np.linspace(table.height // (bad + 1), table.height - 1, bad)]
        idx = pl.int_range(pl.len())
        table = table.with_columns(
            pl.when(idx == at[0])
            .then(pl.lit("999"))
            .otherwise(pl.col("开户行行号"))
            .alias("开户行行号"),
            pl.when(idx == at[1 % bad])
            .then(pl.lit("62170012"))
            .otherwise(pl.col("社保卡银行账号"))
            .alias("社保卡银行账号"),
            pl.when(idx == at[2 % bad])
            .then(pl.lit("S999999999"))
            .otherwise(pl.col("户编号"))
            .alias("户编号"),
        )
    _write_csv(table, out)
    return table.height


def write_contributions(snapshot: Path, out: Path, n: int, *, seed: int = 1, bad: int = 4) -> int:
    """``n`` contribution rows: for each person aged 18-59, months from 2024-01 on (as many as
    ``n`` needs), employee pension for four in five persons and resident pension for the rest."""
    persons = _persons(snapshot).join(
        _households(snapshot).select("household_id", "region"), on="household_id"
    )
    adults = persons.filter(pl.col("birth_date").is_between(19650101, 20051231))
    if adults.height == 0:
        raise SystemExit("no persons of working age in the snapshot")
    months = -(-n // adults.height)
    if months > 20:
        raise SystemExit(f"{n} rows need {months} months per person; generate more persons")
    rng = np.random.default_rng([seed, 20240101])
    base_yuan = rng.integers(AVERAGE_WAGE_YUAN * 6 // 10 + 1, AVERAGE_WAGE_YUAN * 3, adults.height)
    resident = rng.random(adults.height) < 0.2
    people = adults.select("id_number", "region").with_columns(
        pl.Series("base", base_yuan), pl.Series("resident", resident)
    )
    month_list = [f"2024-{m:02d}" for m in range(1, 13)] + [f"2025-{m:02d}" for m in range(1, 9)]
    rows = (
        people.join(pl.DataFrame({"缴费月份": month_list[:months]}), how="cross")
        .head(n)
        .select(
            pl.col("id_number").alias("身份证号"),
            pl.when(pl.col("resident"))
            .then(pl.lit("居民养老"))
            .otherwise(pl.lit("职工养老"))
            .alias("险种"),
            pl.col("region").alias("参保地"),
            pl.col("缴费月份"),
            pl.when(pl.col("resident"))
            .then(pl.lit(""))
            .otherwise(pl.col("base").cast(pl.Utf8))
            .alias("缴费基数"),
            pl.when(pl.col("resident"))
            .then(pl.lit("0"))
            .otherwise(_yuan(pl.col("base") * 16))
            .alias("单位缴费"),
            pl.when(pl.col("resident"))
            .then(pl.lit("100"))
            .otherwise(_yuan(pl.col("base") * 8))
            .alias("个人缴费"),
        )
    )
    if bad and rows.height > 10 * bad:
        at = [int(i) for i in np.linspace(rows.height // (bad + 1), rows.height - 1, bad)]
        idx = pl.int_range(pl.len())
        rows = rows.with_columns(
            pl.when(idx == at[0])
            .then(_wrong_check(pl.col("身份证号")))
            .otherwise(pl.col("身份证号"))
            .alias("身份证号"),
            pl.when(idx == at[1 % bad])
            .then(pl.lit("2024-13"))
            .otherwise(pl.col("缴费月份"))
            .alias("缴费月份"),
            pl.when(idx == at[2 % bad])
            .then(pl.lit("养老金"))
            .otherwise(pl.col("险种"))
            .alias("险种"),
            pl.when(idx == at[3 % bad])
            .then(pl.lit("1"))
            .otherwise(pl.col("缴费基数"))
            .alias("缴费基数"),
        )
    _write_csv(rows, out)
    return rows.height


def _write_csv(table: pl.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    table.write_csv(tmp, include_bom=True)
    tmp.replace(out)
