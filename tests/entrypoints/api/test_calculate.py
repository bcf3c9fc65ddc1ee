"""``POST /calculate``: many households at once, the same answers as one at a time."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from safetynet.entrypoints.api import Role
from safetynet.policy.engine import evaluate, program
from safetynet.policy.population import population_from_households
from safetynet.policy.screening import load_parameter_values
from tests.entrypoints.api.conftest import OWN, auth, token

CLERK = token(Role.INTAKE_CLERK, OWN)
AUDITOR = token(Role.AUDITOR, OWN)
ON = "2026-07-01"
REGION = "510181"  # a county the illustrative locality 'demo' covers


def household(i: int, wage: str = "1200.00") -> dict[str, Any]:
    return {
        "household_id": f"H-{i}",
        "region": REGION,
        "hukou_type": "urban" if i % 2 else "rural",
        "financial_assets": "3000.00",
        "members": [
            {"relation": "head", "birth_date": "1960-03-01", "sex": "male",
             "wage_income": wage, "is_employed": True},
            {"relation": "spouse", "birth_date": "1962-06-01", "sex": "female"},
        ],
    }  # fmt: skip


def body(households: list[Any], **more: Any) -> dict[str, Any]:
    return {"date": ON, "fallback_parameters": "demo", "households": households, **more}


def post(client: TestClient, payload: Any, tok: str = CLERK, **kw: Any) -> Any:
    return client.post("/calculate", json=payload, headers=auth(tok), **kw)


def test_each_household_gets_what_it_gets_alone(client: TestClient) -> None:
    households = [household(i, f"{900 * i}.00") for i in range(6)]
    response = post(client, body(households, programs=["dibao", "tekun"]))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [p["id"] for p in answer["programs"]] == ["dibao", "tekun"]
    assert answer["counts"] == {"households": 6, "calculated": 6, "refused": 0}
    fallbacks = load_parameter_values("demo")
    on = dt.date.fromisoformat(ON)
    for hh, got in zip(households, answer["households"], strict=True):
        assert got["household_id"] == hh["household_id"]
        for k, pid in enumerate(["dibao", "tekun"]):
            alone = evaluate(program(pid), population_from_households([hh]), on, REGION,
                             fallbacks=fallbacks)  # fmt: skip
            assert got["amount_fen"][k] == int(alone.result.amount[0])
            assert got["eligible"][k] == bool(alone.result.eligible[0])
    assert any(got["amount_fen"][0] > 0 for got in answer["households"])  # some get dibao
    assert any(got["amount_fen"][0] == 0 for got in answer["households"])  # some do not


def test_a_wrong_household_is_answered_with_its_error_and_the_others_calculated(
    client: TestClient,
) -> None:
    bad = household(1)
    bad["members"][0]["wage_income"] = "12,50"
    no_region = household(2)
    del no_region["region"]
    response = post(client, body([household(0), bad, no_region, household(3)]))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["counts"] == {"households": 4, "calculated": 2, "refused": 2}
    rows = answer["households"]
    assert rows[1]["error"]["field"] == "households[1].members[0].wage_income"
    assert "12,50" in rows[1]["error"]["reason"]
    assert rows[2]["error"]["field"] == "households[2].region"
    assert "amount_fen" in rows[0]
    assert "amount_fen" in rows[3]


def test_explanations_on_request_are_those_of_calc(client: TestClient) -> None:
    response = post(client, body([household(0)], programs=["dibao"], explain=True))
    assert response.status_code == 200, response.text
    explained = response.json()["households"][0]["explanations"]["dibao"]
    steps = [s["step"] for s in explained["explanation"]]
    assert "eligible" in steps
    assert explained["parameters"]
    assert all("citation" in p for p in explained["parameters"])
    amount_fen = response.json()["households"][0]["amount_fen"][0]
    assert explained["amount"] == f"{amount_fen // 100}.{amount_fen % 100:02d}"


def test_streaming_answers_one_line_per_household(client: TestClient) -> None:
    households = [household(i) for i in range(3)]
    response = post(client, body(households, programs=["dibao"]), params={"stream": "true"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines[0]["programs"][0]["id"] == "dibao"
    assert [line["household_id"] for line in lines[1:-1]] == ["H-0", "H-1", "H-2"]
    assert lines[-1]["counts"] == {"households": 3, "calculated": 3, "refused": 0}
    whole = post(client, body(households, programs=["dibao"])).json()["households"]
    assert [line["amount_fen"] for line in lines[1:-1]] == [h["amount_fen"] for h in whole]


def test_a_csv_or_parquet_file_of_persons(client: TestClient) -> None:
    rows = [
        {"household_id": "F-1", "region": REGION, "hukou_type": "urban", "relation": "head",
         "birth_date": "1960-03-01", "sex": "male", "wage_income": "500.00"},
        {"household_id": "F-1", "region": REGION, "hukou_type": "urban", "relation": "spouse",
         "birth_date": "1962-06-01", "sex": "female", "wage_income": ""},
    ]  # fmt: skip
    text = ",".join(rows[0]) + "\n" + "\n".join(",".join(r.values()) for r in rows) + "\n"
    params = {"date": ON, "programs": ["dibao"]}
    csv_answer = client.post(
        "/calculate", content=text.encode(), params=params,
        headers={**auth(CLERK), "content-type": "text/csv"},
    )  # fmt: skip
    assert csv_answer.status_code == 200, csv_answer.text
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    parquet_answer = client.post(
        "/calculate", content=buffer.getvalue(), params=params,
        headers={**auth(CLERK), "content-type": "application/vnd.apache.parquet"},
    )  # fmt: skip
    assert parquet_answer.status_code == 200, parquet_answer.text
    assert csv_answer.json()["households"] == parquet_answer.json()["households"]
    assert csv_answer.json()["households"][0]["household_id"] == "F-1"


def test_refused_to_a_role_without_the_action_and_bounded(client: TestClient) -> None:
    assert post(client, body([household(0)]), tok=AUDITOR).status_code == 403
    assert client.post("/calculate", json=body([household(0)])).status_code == 401
    assert post(client, body([])).status_code == 422
    assert post(client, body([household(0)], programs=["no_such_program"])).status_code == 422
    garbage = client.post(
        "/calculate", content=b"not parquet", headers={**auth(CLERK), "content-type":
                                                       "application/vnd.apache.parquet"},
    )  # fmt: skip
    assert garbage.status_code == 422
    too_many = post(client, {"date": ON, "households": [{}] * 50_001})
    assert too_many.status_code == 413


def test_identity_numbers_never_come_back(client: TestClient) -> None:
    hh = household(0)
    hh["household_id"] = "110105198503010032"  # a client that keys households by identity
    hh["members"][0] = {"id_number": "110105198503010032", "relation": "head", "wage_income": "x"}
    response = post(client, body([hh, household(1)]))
    assert response.status_code == 200
    assert "110105198503010032" not in response.text
    stream = post(client, body([hh]), params={"stream": "true"})
    assert "110105198503010032" not in stream.text


def test_a_calculated_household_keyed_by_an_identity_number_is_masked_among_plain_ones(
    client: TestClient,
) -> None:
    households = [household(i) for i in range(30)]
    households[17]["household_id"] = "户 11010519850301003X"  # calculated, not refused
    households[23]["household_id"] = "１１０１０５１９８５０３０１００３２"  # full-width digits
    answer = post(client, body(households))
    assert answer.status_code == 200
    rows = answer.json()["households"]
    assert [r["household_id"] for r in rows[:3]] == ["H-0", "H-1", "H-2"]
    assert "error" not in rows[17]
    assert "11010519850301003X" not in answer.text
    assert rows[17]["household_id"].startswith("户 110")
    assert "*" in rows[17]["household_id"]
    assert "１９８５０３０１" not in answer.text
    assert all(len(r["amount_fen"]) == len(answer.json()["programs"]) for r in rows)


@pytest.mark.parametrize(
    "answers",
    [
        [{"index": 0, "household_id": "H-1", "region": REGION, "eligible": [True, False],
          "amount_fen": [12_345, 0]}],
        [{"index": 0, "household_id": "a\n110105198503010032", "region": REGION,
          "eligible": [True], "amount_fen": [1]}],
        [{"index": 0, "household_id": "H-1", "region": "110105 19850301 0032",
          "eligible": [True], "amount_fen": [1]}],
        [{"index": 0, "household_id": "H-1", "region": REGION, "eligible": [True],
          "amount_fen": [110105198503010032]}],
        [{"index": 110105198503010, "household_id": "H-1", "region": REGION,
          "eligible": [], "amount_fen": []}],
        [{"index": 0, "household_id": "H-1", "region": REGION, "eligible": ["110105198503010032"],
          "amount_fen": [1, None]}],
        [{"index": 0, "household_id": "H-1", "region": REGION, "eligible": [True],
          "amount_fen": [[110105198503010032]]}],
        [{"index": 0, "household_id": 110105198503010032, "region": REGION,
          "eligible": [True], "amount_fen": [1]}],
        [{"index": 0, "household_id": "H-1", "error": {"field": "x", "reason":
          "110105198503010032 is wrong"}}],
    ],
)  # fmt: skip
def test_answers_are_masked_in_one_pass_as_the_walk_masks_them(answers: list[Any]) -> None:
    from decimal import Decimal

    from safetynet.entrypoints.api.routes.calculate import _masked_answers, masked

    plain = [{"index": i, "household_id": f"H-{i}", "region": REGION, "eligible": [False, True],
              "amount_fen": [0, -5, 99_999_999_999_999]} for i in range(1, 50)]  # fmt: skip
    for given in (answers, plain + answers, [*answers, *plain]):
        assert _masked_answers(given) == masked(given)
    nan = [{**plain[0], "amount_fen": [Decimal("NaN"), Decimal(1)]}]
    assert _masked_answers(nan)[0]["amount_fen"][1] == Decimal(1)


def test_the_programs_header_follows_the_date_and_the_programs(client: TestClient) -> None:
    from safetynet.policy.calculate_many import Request, program_header

    july = post(client, body([household(0)], programs=["dibao", "tekun"])).json()
    again = post(client, body([household(1)], programs=["dibao", "tekun"])).json()
    august = post(client, body([household(0)], programs=["dibao"], date="2026-08-01")).json()
    every = post(client, body([household(0)])).json()
    on = dt.date.fromisoformat(ON)
    assert july["programs"] == program_header(Request(on, programs=("dibao", "tekun")))
    assert again["programs"] == july["programs"]
    assert [p["period"] for p in july["programs"]] == ["2026-07", "2026-07"]
    assert august["programs"] == program_header(Request(dt.date(2026, 8, 1), programs=("dibao",)))
    assert every["programs"] == program_header(Request(on))
    assert len(every["programs"]) == len(every["households"][0]["amount_fen"])


def test_the_programs_header_is_masked_and_built_once_per_date_and_programs(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safetynet.entrypoints.api.routes import calculate as route
    from safetynet.policy import calculate_many

    built: list[dt.date] = []

    def header(request: Any) -> list[dict[str, str]]:
        built.append(request.on)
        return [{"id": "dibao", "title": "for 110105198503010032", "period": "x", "unit": "y"}]

    monkeypatch.setattr(route, "_HEADERS", {})
    monkeypatch.setattr(calculate_many, "program_header", header)
    first = post(client, body([household(0)], programs=["dibao"]))
    second = post(client, body([household(1)], programs=["dibao"]))
    other_day = post(client, body([household(0)], programs=["dibao"], date="2026-08-01"))
    assert built == [dt.date(2026, 7, 1), dt.date(2026, 8, 1)]
    for response in (first, second, other_day):
        assert response.status_code == 200, response.text
        assert "110105198503010032" not in response.text
        assert response.json()["programs"][0]["title"].startswith("for 110")


def test_the_answer_is_compact_utf8_json(client: TestClient) -> None:
    response = post(client, body([household(0), household(1)], programs=["dibao", "tekun"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    # What JSONResponse wrote: no spaces, Chinese titles as UTF-8 rather than \u escapes.
    expected = json.dumps(response.json(), ensure_ascii=False, separators=(",", ":"))
    assert response.content == expected.encode("utf-8")
    assert "最低生活保障".encode() in response.content
    assert b"\\u" not in response.content


def test_a_few_households_are_calculated_on_the_event_loop_more_in_a_worker_thread(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.concurrency import run_in_threadpool as real

    from safetynet.entrypoints.api.routes import calculate as route

    sent: list[str] = []

    async def noted(fn: Any, *args: Any) -> Any:
        sent.append(fn.__name__)
        return await real(fn, *args)

    monkeypatch.setattr(route, "run_in_threadpool", noted)
    few = [household(i, f"{300 * i}.00") for i in range(route.INLINE_HOUSEHOLDS)]
    inline = post(client, body(few))
    assert inline.status_code == 200, inline.text
    assert sent == []
    more = post(client, body([*few, household(99)]))
    assert more.status_code == 200, more.text
    assert sent == ["_answers"]
    assert more.json()["households"][: len(few)] == inline.json()["households"]
    explained = post(client, body([household(0)], programs=["dibao"], explain=True))
    assert explained.status_code == 200, explained.text
    assert sent == ["_answers", "_answers"]  # explanations take longer: a worker thread
    refused = post(client, body([household(0)], programs=["no_such_program"]))
    assert refused.status_code == 422
    wrong = household(1)
    wrong["members"][0]["wage_income"] = "12,50"
    answered = post(client, body([wrong]))
    assert answered.status_code == 200
    assert answered.json()["households"][0]["error"]["field"].endswith("wage_income")


def test_matched_first_and_only_by_its_own_method(client: TestClient) -> None:
    from starlette.routing import Match

    routes = cast(FastAPI, client.app).routes
    scope = {"type": "http", "method": "POST", "path": "/calculate", "root_path": ""}
    matched = [r for r in routes if r.matches(scope)[0] is not Match.NONE]
    assert len(matched) == 1
    assert routes.index(matched[0]) <= 1  # after /openapi.json: the routes are tried in order
    assert client.get("/calculate", headers=auth(CLERK)).status_code == 405
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/calculate", "/tracks/{track_id}", "/persons/{person_id}/id-number"} <= set(paths)


def test_documented_in_the_openapi_with_an_example(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/calculate"]["post"]
    assert operation["x-action"] == "calculate"
    content = operation["requestBody"]["content"]
    assert {"application/json", "text/csv", "application/vnd.apache.parquet"} <= set(content)
    assert content["application/json"]["example"]["households"]
