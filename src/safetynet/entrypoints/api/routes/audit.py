"""``/audit``: check the hash-chained audit log (auditors only)."""

from fastapi import APIRouter, Depends

from safetynet.entrypoints.api.deps import ServiceDep, allowed
from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.api.schemas import AuditReportPublic

__all__ = ["router"]

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "/verify",
    dependencies=[Depends(allowed(Action.AUDIT_VERIFY))],
    openapi_extra={"x-action": Action.AUDIT_VERIFY.value},
)
def verify_audit(service: ServiceDep) -> AuditReportPublic:
    """Check the whole chain; name every altered, removed or reordered entry. The answer holds
    entry numbers and the kind of problem only, never case data."""
    return service.verify_audit()
