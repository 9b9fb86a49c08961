"""The ledger: one application service with a method per command of the domain.

Each command answers the log position it reached (``result.position``), so a reader can wait
until its projections have caught up with a write it depends on.
"""

from __future__ import annotations

from domain.app_commands import AppCommands
from domain.key_commands import KeyCommands
from domain.oauth_commands import OAuthCommands
from domain.review_commands import ReviewCommands


class Ledger(AppCommands, ReviewCommands, OAuthCommands, KeyCommands):
    """The token and permission ledger's write side."""

    name = "Ledger"
