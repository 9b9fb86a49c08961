"""The legacy platform's OAuth endpoints: authorization (sign-in and consent pages), the token
endpoint, and signed-request verification. One module per concern; ``router`` mounts them all."""

from __future__ import annotations

from fastapi import APIRouter

from api.oauth import authorize, signin, token

router = APIRouter()
router.include_router(authorize.router)
router.include_router(signin.router)
router.include_router(token.router)
