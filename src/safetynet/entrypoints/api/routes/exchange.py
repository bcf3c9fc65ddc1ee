"""``/exchange``: other departments search the registry by identifier, in the shape of the Digital
Convergence Initiative's social registry API (``search_request`` → ``search_response`` with
``succ`` or ``rjct`` per request). Every request, answered or refused, is recorded in the audit
log before the answer is sent (docs/services.md, "Exchange with other departments")."""

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from safetynet.entrypoints.api.deps import CurrentUser, ServiceDep
from safetynet.entrypoints.api.policy import Action, may
from safetynet.registry.exchange import search_by_id_number

__all__ = ["router"]

router = APIRouter(prefix="/exchange", tags=["exchange"])

MAX_REQUESTS = 20


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["id_number"] = Field(description="The identifier searched by.")
    value: Annotated[str, Field(min_length=15, max_length=24, description="Its value.")]


class SearchCriteria(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query_type: Literal["idtype-value"] = "idtype-value"
    reg_type: Literal["household"] = "household"
    query: Query


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference_id: Annotated[str, Field(min_length=1, max_length=64)]
    search_criteria: SearchCriteria
    purpose: Annotated[
        str,
        Field(min_length=1, max_length=200, description="What the data is for (kept in the log)."),
    ]


class SearchBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "transaction_id": "mz-2025-000123",
                    "search_request": [
                        {
                            "reference_id": "1",
                            "search_criteria": {
                                "query_type": "idtype-value",
                                "reg_type": "household",
                                "query": {"type": "id_number", "value": "110105198503010032"},
                            },
                            "purpose": "医疗救助资格核对 medical assistance eligibility",
                        }
                    ],
                }
            ]
        },
    )
    transaction_id: Annotated[str, Field(min_length=1, max_length=64)]
    search_request: Annotated[list[SearchRequest], Field(min_length=1, max_length=MAX_REQUESTS)]


class Enrolment(BaseModel):
    program: str
    status: str
    start_date: str
    end_date: str | None
    amount_fen: int


class HouseholdRef(BaseModel):
    region_code: str
    household_no: str
    relation_of_person: str


class RegRecord(BaseModel):
    household: HouseholdRef
    enrolments: list[Enrolment]


class SearchData(BaseModel):
    reg_records: list[RegRecord]


class SearchResponse(BaseModel):
    reference_id: str
    status: Literal["succ", "rjct"]
    status_reason_code: str | None
    data: SearchData
    audit_entry: int


class SearchAnswer(BaseModel):
    transaction_id: str
    search_response: list[SearchResponse]


@router.post(
    "/registry/search",
    openapi_extra={"x-action": Action.EXCHANGE_SEARCH.value},
    responses={403: {"description": "The caller is not an authorised department (logged)."}},
)
def search(body: SearchBody, user: CurrentUser, service: ServiceDep) -> SearchAnswer:
    """A department's search of persons by identity number: for each, the households the
    person belongs to and their enrolments (program, status, dates, amount in fen), masked. A
    person outside the department's region, or unknown, is ``rjct`` with ``rjct.not_found``
    either way. A caller whose role may not search gets 403, and each of its requests is logged
    as refused."""
    authorised = may(user, Action.EXCHANGE_SEARCH)
    today = service.today()
    answers = []
    for request in body.search_request:
        found = search_by_id_number(
            service.db,
            actor=user.actor,
            authorised=authorised,
            id_number=request.search_criteria.query.value,
            purpose=request.purpose,
            on=today,
            clock=service.clock,
        )
        answers.append(
            SearchResponse(
                reference_id=request.reference_id,
                status="succ" if found.status == "succ" else "rjct",
                status_reason_code=found.reason,
                data=SearchData(reg_records=[RegRecord.model_validate(r) for r in found.records]),
                audit_entry=found.audit_entry,
            )
        )
    if not authorised:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"role {user.role.value} may not search the registry for another department "
            "(the request is logged)",
        )
    return SearchAnswer(transaction_id=body.transaction_id, search_response=answers)
