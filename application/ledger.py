"""The ledger: one application service with a method per command and query of the domain.

Each concept's module holds its commands (``…Commands``: they write events) and its queries
(``…Queries``: they only read); the ``Ledger`` mixes them into one ``Application``.

Each command answers the log position it reached (``result.position``), so a reader can wait
until its projections have caught up with a write it depends on.
"""

from __future__ import annotations

from application.apps import AppCommands, AppQueries
from application.keys import KeyCommands, KeyQueries
from application.oauth import OAuthCommands, OAuthQueries
from application.reviews import ReviewCommands
from application.scope_policy import ScopePolicyCommands
from application.users import UserCommands


class Ledger(
    AppCommands,
    AppQueries,
    ReviewCommands,
    ScopePolicyCommands,
    UserCommands,
    OAuthCommands,
    OAuthQueries,
    KeyCommands,
    KeyQueries,
):
    """The token and permission ledger's write side, and the reads its callers make of it."""

    name = "Ledger"
