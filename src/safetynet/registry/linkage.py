"""Record linkage of persons: find rows that are one person under different identity numbers.

A Fellegi–Sunter model (Splink on an in-process DuckDB, ADR 0012) compares candidate pairs of
persons on name (characters, pinyin, order), birth date, the parts of the identity number that are
neither birth date nor sex (place code and serial: a mistyped digit, a legacy 15-digit number of an
old county code), sex and hukou region. Candidate pairs come from blocking rules (same birth date;
same name in pinyin and birth year; same place code and serial), so no county is compared
all against all. The m probabilities are trained by expectation maximisation on the persons
themselves, the u probabilities by random sampling; no labelled data is needed. Thresholds are
parameters (``common.linkage.*``).

This module does no database I/O: it takes ``LinkageRecord`` rows and returns scored pairs.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from safetynet.domain.regions import NATION_CODE, default_registry
from safetynet.policy.parameters import ParameterTree, default_tree

__all__ = [
    "LINKAGE_PARAMETERS",
    "LinkageRecord",
    "LinkageSettings",
    "ScoredPair",
    "TooFewPersonsError",
    "features",
    "linkage_settings",
    "score_between",
    "score_within",
    "train_model",
]

LINKAGE_PARAMETERS = "common.linkage"
UNIQUE_ID = "person_id"


def _quiet_splink() -> None:
    """Splink logs its steps, and at WARNING the levels no pair fell into during training (they
    keep Splink's default m, e.g. "same province" when every person is of one province); the
    stored model shows which, so the log is left to errors."""
    logging.getLogger("splink").setLevel(logging.ERROR)


@dataclass(frozen=True, slots=True)
class LinkageRecord:
    """What linkage knows of a person: the registry's row, or one an import would add."""

    person_id: int
    id_number: str
    name: str
    sex: str
    birth_date: dt.date
    region: str
    address: str | None = None


@dataclass(frozen=True, slots=True)
class ScoredPair:
    """Two persons (lower id first for pairs within one table) and the model's verdict."""

    left_id: int
    right_id: int
    match_probability: float
    match_weight: float


@dataclass(frozen=True, slots=True)
class LinkageSettings:
    """The parameters ``common.linkage.*`` in force on a day."""

    review_probability: float
    intake_hold_probability: float
    minimum_training_persons: int
    random_sample_pairs: int


class TooFewPersonsError(ValueError):
    """Fewer persons than ``common.linkage.minimum_training_persons``: no model can be trained."""


def linkage_settings(
    on: dt.date, region: str = NATION_CODE, tree: ParameterTree | None = None
) -> LinkageSettings:
    parameters = tree if tree is not None else default_tree()
    lineage = default_registry().lineage_codes(region)

    def value(name: str) -> Any:
        return parameters.resolve(f"{LINKAGE_PARAMETERS}.{name}", on, lineage).value

    return LinkageSettings(
        review_probability=float(value("review_probability")),
        intake_hold_probability=float(value("intake_hold_probability")),
        minimum_training_persons=int(value("minimum_training_persons")),
        random_sample_pairs=int(value("random_sample_pairs")),
    )


# -- features --------------------------------------------------------------------------------


def name_pinyin(name: str) -> str:
    """Toneless pinyin of a name, syllables joined: 王伟 and 王玮 both read ``wangwei``.

    Character by character (a name is no phrase to segment), each looked up once."""
    return "".join(_char_pinyin(char) for char in name)


@functools.lru_cache(maxsize=32768)  # more than the characters names are written with
def _char_pinyin(char: str) -> str:
    from pypinyin import lazy_pinyin  # loads its dictionaries (~0.6 s): only to compare names

    return "".join(lazy_pinyin(char, errors="ignore")).lower()


_SCHEMA = pa.schema(
    [
        (UNIQUE_ID, pa.int64()),
        ("name", pa.string()),
        ("name_pinyin", pa.string()),
        ("name_sorted", pa.string()),
        ("given_pinyin", pa.string()),
        ("birth_date", pa.string()),
        ("birth_year", pa.string()),
        ("birth_month", pa.string()),
        ("birth_day", pa.string()),
        ("sex", pa.string()),
        ("id_place", pa.string()),
        ("id_serial", pa.string()),
        ("region", pa.string()),
        ("address", pa.string()),
    ]
)


def features(records: Iterable[LinkageRecord]) -> pa.Table:
    """The columns the model compares. The identity number enters only through its place code
    (digits 1-6) and serial (digits 15-17): its birth date and sex digits are compared as birth
    date and sex, so that one typing error is not counted twice."""
    columns: dict[str, list[Any]] = {name: [] for name in _SCHEMA.names}
    for r in records:
        born = r.birth_date.isoformat()
        columns[UNIQUE_ID].append(r.person_id)
        columns["name"].append(r.name)
        columns["name_pinyin"].append(name_pinyin(r.name) or None)
        columns["name_sorted"].append("".join(sorted(r.name)))
        # The given name after a one-character surname (compound surnames are rare enough).
        columns["given_pinyin"].append(name_pinyin(r.name[1:]) or None)
        columns["birth_date"].append(born)
        columns["birth_year"].append(born[:4])
        columns["birth_month"].append(born[5:7])
        columns["birth_day"].append(born[8:10])
        columns["sex"].append(r.sex)
        columns["id_place"].append(r.id_number[:6])
        columns["id_serial"].append(r.id_number[14:17])
        columns["region"].append(r.region)
        columns["address"].append(r.address or None)
    return pa.table(columns, schema=_SCHEMA)


# -- the model -------------------------------------------------------------------------------


def _name_comparison(cl: Any, cll: Any) -> Any:
    return cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name"),
            cll.ExactMatchLevel("name"),
            cll.ExactMatchLevel("name_pinyin").configure(label_for_charts="homophone"),
            cll.ExactMatchLevel("name_sorted").configure(label_for_charts="characters reordered"),
            cll.LevenshteinLevel("name", 1).configure(
                label_for_charts="one character missing or different"
            ),
            cll.CustomLevel(
                "name_l[1] = name_r[1] AND jaro_winkler_similarity(given_pinyin_l, given_pinyin_r)"
                " >= 0.88",
                "same surname, given names sound alike",
            ),
            cll.ElseLevel(),
        ],
    )


def _birth_date_comparison(cl: Any, cll: Any) -> Any:
    one_part = (
        "(birth_year_l = birth_year_r AND birth_month_l = birth_month_r)"
        " OR (birth_year_l = birth_year_r AND birth_day_l = birth_day_r)"
        " OR (birth_month_l = birth_month_r AND birth_day_l = birth_day_r)"
        " OR (birth_year_l = birth_year_r AND birth_month_l = birth_day_r"
        " AND birth_day_l = birth_month_r)"
    )
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(one_part, "year, month or day differs, or month and day swapped"),
            cll.ElseLevel(),
        ],
    )


def _identity_comparison(cl: Any, cll: Any) -> Any:
    serial_one_digit = "id_place_l = id_place_r AND hamming(id_serial_l, id_serial_r) = 1"
    return cl.CustomComparison(
        output_column_name="identity_number",
        comparison_levels=[
            cll.NullLevel("id_serial"),
            cll.CustomLevel(
                "id_place_l = id_place_r AND id_serial_l = id_serial_r",
                "same place code and serial",
            ),
            cll.CustomLevel(
                "id_serial_l = id_serial_r",
                "same serial, other place code (legacy or re-coded number)",
            ),
            cll.CustomLevel(serial_one_digit, "same place code, serial one digit apart"),
            cll.ElseLevel(),
        ],
    )


def _region_comparison(cl: Any, cll: Any) -> Any:
    return cl.CustomComparison(
        output_column_name="region",
        comparison_levels=[
            cll.NullLevel("region"),
            cll.ExactMatchLevel("region"),
            cll.CustomLevel("substr(region_l, 1, 4) = substr(region_r, 1, 4)", "same prefecture"),
            cll.CustomLevel("substr(region_l, 1, 2) = substr(region_r, 1, 2)", "same province"),
            cll.ElseLevel(),
        ],
    )


def _sex_comparison(cl: Any, cll: Any) -> Any:
    return cl.CustomComparison(
        output_column_name="sex",
        comparison_levels=[cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()],
    )


def _address_comparison(cl: Any, cll: Any) -> Any:
    return cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.NullLevel("address"),
            cll.ExactMatchLevel("address"),
            cll.JaroWinklerLevel("address", 0.9),
            cll.ElseLevel(),
        ],
    )


# Candidate pairs: persons who agree on one of these (each a list of columns).
BLOCKING_RULES = (("birth_date",), ("name_pinyin", "birth_year"), ("id_place", "id_serial", "sex"))


def _settings(with_address: bool) -> Any:
    # Splink and DuckDB take ~1 s to import: only when a model is trained or applied.
    from splink import SettingsCreator, block_on  # (see above)
    from splink import comparison_level_library as cll  # (see above)
    from splink import comparison_library as cl  # (see above)

    comparisons = [
        _name_comparison(cl, cll),
        _birth_date_comparison(cl, cll),
        _identity_comparison(cl, cll),
        _sex_comparison(cl, cll),
        _region_comparison(cl, cll),
    ]
    if with_address:
        comparisons.append(_address_comparison(cl, cll))
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in BLOCKING_RULES],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def _has_addresses(table: pa.Table) -> bool:
    return bool(table.column("address").null_count < table.num_rows)


def train_model(
    records: Sequence[LinkageRecord] | pa.Table, settings: LinkageSettings, *, seed: int = 1
) -> dict[str, Any]:
    """A trained model (Splink's JSON settings: comparisons with their m and u probabilities).

    u from random pairs; the prior from pairs that agree on name, birth date and identity
    serial; m by expectation maximisation, twice, each time blocking on what the other round
    compares (a comparison used for blocking cannot be trained in that round): the same birth
    date and serial (mostly legacy numbers: trains name, sex and region), then the same name in
    pinyin (trains birth date, identity number, sex and region). Twins, who agree on all but the
    given name, are in neither block, so they do not teach the model that a match may have
    another name."""
    from splink import DuckDBAPI, Linker, block_on  # ~1 s to import: only when training

    _quiet_splink()
    table = records if isinstance(records, pa.Table) else features(records)
    if table.num_rows < settings.minimum_training_persons:
        raise TooFewPersonsError(
            f"{table.num_rows} persons; a model needs at least "
            f"{settings.minimum_training_persons} "
            f"(parameter {LINKAGE_PARAMETERS}.minimum_training_persons)"
        )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(table), _settings(_has_addresses(table)), log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name", "birth_date")], recall=0.4
    )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=settings.random_sample_pairs, seed=seed
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("birth_date", "id_serial")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_pinyin"))
    model: dict[str, Any] = linker.misc.save_model_to_json()
    # A plain JSON document: stored with the pairs it scored, so a verdict can be explained.
    return dict(json.loads(json.dumps(model)))


def _pairs(rows: list[dict[str, Any]], ordered: bool) -> list[ScoredPair]:
    out: list[ScoredPair] = []
    for row in rows:
        left, right = int(row[f"{UNIQUE_ID}_l"]), int(row[f"{UNIQUE_ID}_r"])
        if ordered and left > right:
            left, right = right, left
        out.append(
            ScoredPair(left, right, float(row["match_probability"]), float(row["match_weight"]))
        )
    out.sort(key=lambda p: (-p.match_probability, p.left_id, p.right_id))
    return out


_OUTPUT = f"{UNIQUE_ID}_l, {UNIQUE_ID}_r, match_probability, match_weight"


def score_within(
    model: Mapping[str, Any], records: Sequence[LinkageRecord] | pa.Table, threshold: float
) -> list[ScoredPair]:
    """Every blocked pair within ``records`` whose match probability is at least ``threshold``,
    most probable first."""
    table = records if isinstance(records, pa.Table) else features(records)
    if table.num_rows < 2:
        return []
    from splink import DuckDBAPI, Linker  # ~1 s to import: only when a model is applied

    _quiet_splink()
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(table), dict(model), log_level=None)
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    rows = predictions.as_duckdbpyrelation().query("p", f"select {_OUTPUT} from p")
    return _pairs(_records(rows), ordered=True)


def score_between(
    model: Mapping[str, Any],
    new: Sequence[LinkageRecord],
    existing: Sequence[LinkageRecord],
    threshold: float,
) -> list[ScoredPair]:
    """Blocked pairs of a new person (left) and an existing one (right) at or above
    ``threshold``."""
    if not new or not existing:
        return []
    from splink import DuckDBAPI, Linker  # ~1 s to import: only when a model is applied

    _quiet_splink()
    db_api = DuckDBAPI()
    left = db_api.register(features(new))
    right = db_api.register(features(existing))
    linker = Linker([left, right], dict(model) | {"link_type": "link_only"}, log_level=None)
    predictions = linker.inference.predict_between(
        left, right, threshold_match_probability=threshold
    )
    rows = predictions.as_duckdbpyrelation().query("p", f"select {_OUTPUT} from p")
    return _pairs(_records(rows), ordered=False)


def _records(relation: Any) -> list[dict[str, Any]]:
    names = relation.columns
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
