"""``/persons/{person_id}``: the registry's persons, as far as the API exposes them: the one
reading of a full identity number, with a reason, logged before it is answered."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from safetynet.entrypoints.api.deps import ScopedPerson, ServiceDep, not_found, scoped_person
from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.api.schemas import FullIdNumberPublic, IdNumberReadBody
from safetynet.errors import UnknownNameError

__all__ = ["ID_NUMBER_PATH", "router"]

router = APIRouter(prefix="/persons", tags=["persons"])

ID_NUMBER_PATH = r"/persons/[0-9]+/id-number"
"""The path whose answer keeps ``id_number`` in full (the masking middleware's one exception)."""


@router.post("/{person_id}/id-number", openapi_extra={"x-action": Action.READ_FULL_ID_NUMBER.value})
def read_full_id_number(
    person: Annotated[ScopedPerson, Depends(scoped_person(Action.READ_FULL_ID_NUMBER))],
    body: IdNumberReadBody,
    service: ServiceDep,
    response: Response,
) -> FullIdNumberPublic:
    """The person's full identity number, for a stated reason (e.g. to send to a bank or
    another department). The reading (who, when, why) is committed to the audit log before the
    number is answered; a POST because it has that effect. The answer is not to be cached."""
    # Neither the browser nor a proxy keeps the full number.
    response.headers["Cache-Control"] = "no-store"
    try:
        number = service.read_full_id_number(person.user.actor, person.id, body.reason)
    except UnknownNameError:  # gone or moved out of the region since the check
        raise not_found("person", person.id) from None
    return FullIdNumberPublic(person_id=person.id, id_number=number)
