"""Import every model module so the metadata knows every table (Alembic, create_all)."""

from edu_guard.auth.models import AuditLog, RateLimitCounter, User  # noqa: F401
from edu_guard.cases.models import CaseAssignment, CaseEvent, DropoutCase, HomeVisit  # noqa: F401
from edu_guard.homebound.models import (  # noqa: F401
    HomeboundAttachment,
    HomeboundPlacement,
    HomeboundPlan,
    HomeboundSession,
)
from edu_guard.comparisons.models import ComparisonRow, ComparisonRun  # noqa: F401
from edu_guard.letters.models import DocumentSequence, Letter  # noqa: F401
from edu_guard.registry.models import (  # noqa: F401
    Child,
    DisabilityRecord,
    Division,
    Enrollment,
    FamilyStatus,
    Guardian,
    ImportRun,
    School,
    StatusChange,
    Township,
    Village,
)
from edu_guard.aid.models import AidList, AidListEntry, Payment, PaymentBatch, PaymentReversal, Term  # noqa: F401
from edu_guard.jobs.models import Job  # noqa: F401
from edu_guard.deadlines import HolidayArrangement  # noqa: F401
