"""The ledger: one application service with a method per command of the domain.

Each command answers the log position it reached (``result.position``), so a reader can wait
until its projections have caught up with a write it depends on.
"""

from __future__ import annotations

from application.apps import AppCommands
from application.keys import KeyCommands
from application.oauth import OAuthCommands
from application.reviews import ReviewCommands
from application.scope_policy import ScopePolicyCommands
from application.users import UserCommands


class Ledger(
    AppCommands, ReviewCommands, ScopePolicyCommands, UserCommands, OAuthCommands, KeyCommands
):
    """The token and permission ledger's write side."""

    name = "Ledger"
