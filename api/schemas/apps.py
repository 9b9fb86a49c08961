"""Apps (OAuth clients), their credentials, security settings and sandbox users."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import REASON_MAX, RequestBody, WrittenOut

EXAMPLE_APP: dict[str, Any] = {
    "name": "Printer",
    "description": "Prints your photos",
    "website": "https://client.example",
    "redirect_uris": ["https://client.example/callback"],
    "company_name": "Printer Ltd",
    "contact_email": "dev@client.example",
    "privacy_policy_url": "https://client.example/privacy",
}


class AppRegistration(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_APP]})

    owner: str | None = Field(
        default=None,
        description="The owner's username; defaults to the calling key's principal (a "
        "developer key can only register apps in its own name).",
    )
    name: str
    description: str
    website: str
    redirect_uris: list[str] = Field(max_length=100)
    company_name: str | None = None
    contact_email: str | None = None
    privacy_policy_url: str | None = None


class AppRegistered(WrittenOut):
    client_id: str
    client_secret: str = Field(description="Shown only in this answer.")


class AppDetailsChange(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Printer Pro"}]})

    name: str | None = None
    description: str | None = None
    website: str | None = None
    company_name: str | None = None
    contact_email: str | None = None
    privacy_policy_url: str | None = None
    redirect_uris: list[str] | None = Field(default=None, max_length=100)


class SecretRotatedOut(WrittenOut):
    client_secret: str = Field(
        description="Shown only in this answer; the old one stops working at once."
    )


class SecuritySettingsChange(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"disable_implicit": True}]})

    disable_implicit: bool | None = None
    enforce_signed_requests: bool | None = None


class ApprovalWithdrawal(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"scope": "likes", "reason": "switched off for everyone"},
            ]
        }
    )

    scope: str | None = Field(
        default=None,
        description="One approved permission; omitted (or basic) withdraws the whole approval.",
    )
    reason: str = Field(max_length=REASON_MAX)


class SandboxInvitation(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"username": "alice"}]})

    username: str


class SandboxUserOut(BaseModel):
    user_id: str
    username: str | None
    status: Literal["invited", "accepted"]


class AppOut(BaseModel):
    client_id: str
    owner: str
    name: str
    description: str
    website: str
    company_name: str
    contact_email: str
    privacy_policy_url: str
    redirect_uris: list[str]
    mode: Literal["sandbox", "live"] = Field(
        description="The mode the owner switched to; see effective_mode."
    )
    effective_mode: Literal["sandbox", "live"]
    disabled: bool
    implicit_disabled: bool
    signed_requests_enforced: bool
    approved_scopes: list[str]
    open_review_id: str | None
    sandbox_users: list[SandboxUserOut]
