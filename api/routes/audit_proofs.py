"""The log's tamper evidence over HTTP: the audit pass, signed checkpoints and proof bundles.

Bundles are in the format of ``infrastructure/audit/proof_verifier.py``, which checks them with
nothing but the ledger's verifier key (``python -m infrastructure.audit.proof_verifier``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.auth import Administrator, Caller, allow
from api.dependencies import RuntimeDep
from api.errors import LEDGER_ERROR_RESPONSES
from domain.api_keys import Capability
from infrastructure.audit.trail import checkpoint_body, report_body

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=LEDGER_ERROR_RESPONSES)

Auditor = Annotated[Caller, allow(Capability.AUDIT)]
Size = Annotated[int, Query(ge=0, le=2**63 - 1)]


class AuditReportOut(BaseModel):
    intact: bool
    finding: str = Field(
        description="intact, altered, removed, inserted, reordered, tree-altered or bad-checkpoint"
    )
    intact_through: int | None = Field(
        description="The last log position whose event matches the tree (null: none does)."
    )
    signed_through: int | None = Field(
        description="The last position also covered by a verified signed checkpoint."
    )
    first_bad_position: int | None = Field(
        description="Where the first change is, when it can be located."
    )
    detail: str
    tree_size: int
    checkpoints_verified: int
    uncovered_events: int = Field(description="Events after the tree's last leaf, not judged yet.")


class CheckpointOut(BaseModel):
    size: int
    root_hash: str = Field(description="Base64 RFC 9162 root hash of the first `size` events.")
    signed_at: str
    note: str = Field(description="The C2SP signed-note checkpoint (tlog-checkpoint).")


class ProofBundleOut(BaseModel):
    """A proof bundle; see ``infrastructure/audit/proof_verifier.py`` for its fields."""

    model_config = {"extra": "allow"}

    type: str


@router.get(
    "/verify",
    response_model=AuditReportOut,
    summary="Recompute the log's Merkle tree and check every signed checkpoint",
)
def verify(caller: Auditor, runtime: RuntimeDep) -> dict[str, Any]:
    return report_body(runtime.audit.verify())


@router.get(
    "/checkpoints",
    response_model=list[CheckpointOut],
    summary="Every signed checkpoint of the log, smallest first",
)
def checkpoints(caller: Auditor, runtime: RuntimeDep) -> list[dict[str, Any]]:
    return [checkpoint_body(c) for c in runtime.audit.checkpoints()]


@router.post(
    "/checkpoints",
    response_model=CheckpointOut,
    status_code=201,
    summary="Sign a checkpoint of the whole log now",
)
def sign_checkpoint(caller: Administrator, runtime: RuntimeDep) -> dict[str, Any]:
    return checkpoint_body(runtime.audit.checkpoint())


@router.get(
    "/proofs/inclusion",
    response_model=ProofBundleOut,
    summary="Proof that the event at a log position is in a signed checkpoint",
)
def inclusion_proof(
    caller: Auditor,
    runtime: RuntimeDep,
    position: Annotated[int, Query(ge=1, le=2**63 - 1)],
    checkpoint_size: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**63 - 1,
            description=("The checkpoint to prove it in; omitted means the latest one."),
        ),
    ] = None,
) -> dict[str, Any]:
    return runtime.audit.inclusion_proof(position, checkpoint_size)


@router.get(
    "/proofs/consistency",
    response_model=ProofBundleOut,
    summary="Proof that one signed checkpoint's tree is a prefix of another's",
)
def consistency_proof(
    caller: Auditor, runtime: RuntimeDep, old_size: Size, new_size: Size
) -> dict[str, Any]:
    return runtime.audit.consistency_proof(old_size, new_size)
