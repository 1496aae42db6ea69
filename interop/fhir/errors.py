"""Every FHIR failure is an OperationOutcome that says what is wrong and, where it can,
which element (`issue.expression`, FHIRPath).

Handlers raise `FhirError`; refusals from the domain services (Django's ValidationError and
PermissionDenied, the referral conflicts) are translated in `from_service_error`, with the
service's own message, so the FHIR interface says what the pages and the REST API say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError


@dataclass(frozen=True)
class Issue:
    diagnostics: str
    code: str = "invalid"  # an R4 IssueType code
    severity: str = "error"
    expression: tuple[str, ...] = ()

    def as_fhir(self) -> dict:
        issue = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


@dataclass
class FhirError(Exception):
    """A refused request: the HTTP status and the issues of its OperationOutcome.

    `keep_writes`: the refusal must not roll back what the request wrote so far. Only for
    refusals raised before any domain write whose audit rows must survive (a patient
    match that disclosed that a record exists)."""

    status: int
    issues: list[Issue] = field(default_factory=list)
    keep_writes: bool = False

    def __str__(self) -> str:
        return "; ".join(i.diagnostics for i in self.issues)

    def outcome(self) -> dict:
        return operation_outcome(self.issues)


def operation_outcome(issues: Iterable[Issue]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [i.as_fhir() for i in issues]}


def invalid(
    message: str, *, expression: str | None = None, code: str = "invalid", status: int = 422
) -> FhirError:
    """The request is well-formed but breaks a rule (422 unless said otherwise)."""
    return FhirError(status, [Issue(message, code, expression=(expression,) if expression else ())])


def structure(message: str, *, expression: str | None = None) -> FhirError:
    """The body is not a valid FHIR resource of the expected kind (400)."""
    return invalid(message, expression=expression, code="structure", status=400)


def required(message: str, *, expression: str) -> FhirError:
    return invalid(message, expression=expression, code="required")


def code_invalid(message: str, *, expression: str) -> FhirError:
    return invalid(message, expression=expression, code="code-invalid")


def not_found(resource_type: str, resource_id: str | int) -> FhirError:
    """The same answer for a resource that does not exist and one the caller may not see:
    nobody learns that another tenant's id exists."""
    return FhirError(404, [Issue(f"{resource_type}/{resource_id} is not known here.", "not-found")])


def from_service_error(
    exc: Exception, *, expressions: Mapping[str, str] | None = None, prefix: str = ""
) -> FhirError:
    """A domain service's refusal as an OperationOutcome: conflicts 409, permissions 403,
    broken rules 422; a field error points at the element that carried it
    (`expressions` maps service field names to FHIRPath)."""
    from referrals.services import DuplicateReferral, TransitionConflict

    expressions = expressions or {}
    if isinstance(exc, PermissionDenied):
        return FhirError(403, [Issue(prefix + (str(exc) or "Not allowed."), "forbidden")])
    if not isinstance(exc, ValidationError):
        raise TypeError(f"not a service refusal: {type(exc).__name__}")
    if isinstance(exc, TransitionConflict):
        status, code = 409, "conflict"
    elif isinstance(exc, DuplicateReferral):
        status, code = 409, "duplicate"
    else:  # a rule of the service (consent, capacity, a missing reason...)
        status, code = 422, "business-rule"
    issues = []
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            where = expressions.get(name)
            for message in errors:
                issues.append(Issue(prefix + message, code, expression=(where,) if where else ()))
    else:
        where = expressions.get("")
        issues = [
            Issue(prefix + m, code, expression=(where,) if where else ()) for m in exc.messages
        ]
    return FhirError(status, issues)
