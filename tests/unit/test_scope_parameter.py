"""The OAuth ``scope`` parameter, as the legacy platform parsed it (seed; RFC 6749 §3.3)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.errors import InvalidScopeError
from domain.scopes import SEED_SCOPES, parse_scope_param

KNOWN = frozenset(name for name, _, _ in SEED_SCOPES)


def _message_without_the_unknown_name() -> str:
    """The error's fixed text, so a property can tell naming the token from quoting the listing."""
    sentinel = "\u2603"
    with pytest.raises(InvalidScopeError) as refused:
        parse_scope_param(sentinel, KNOWN)
    return refused.value.message.replace(sentinel, "")


def test_omitted_scope_means_basic() -> None:
    assert parse_scope_param(None, KNOWN) == ("basic",)


def test_empty_scope_parameter_is_invalid() -> None:
    with pytest.raises(InvalidScopeError, match="empty"):
        parse_scope_param("", KNOWN)


@pytest.mark.parametrize("value", [" ", "   ", "\t"])
def test_whitespace_only_scope_parameter_is_invalid(value: str) -> None:
    with pytest.raises(InvalidScopeError):
        parse_scope_param(value, KNOWN)


def test_scopes_are_separated_by_spaces() -> None:
    assert sorted(parse_scope_param("likes comments", KNOWN)) == ["comments", "likes"]


def test_repeated_spaces_between_scopes_are_ignored() -> None:
    assert sorted(parse_scope_param("  likes   comments ", KNOWN)) == ["comments", "likes"]


def test_single_scope_parses_to_itself() -> None:
    assert parse_scope_param("public_content", KNOWN) == ("public_content",)


def test_unknown_scopes_are_named_in_the_error() -> None:
    with pytest.raises(InvalidScopeError) as refused:
        parse_scope_param("basic photos videos", KNOWN)
    assert "photos" in refused.value.message
    assert "videos" in refused.value.message


def test_one_unknown_scope_refuses_the_whole_parameter() -> None:
    with pytest.raises(InvalidScopeError):
        parse_scope_param("basic likes stories", KNOWN)


def test_scope_names_are_case_sensitive() -> None:
    with pytest.raises(InvalidScopeError, match="BASIC"):
        parse_scope_param("BASIC", KNOWN)


def test_comma_is_not_a_separator() -> None:
    with pytest.raises(InvalidScopeError, match="likes,comments"):
        parse_scope_param("likes,comments", KNOWN)


def test_duplicate_scopes_collapse() -> None:
    assert sorted(parse_scope_param("likes basic likes", KNOWN)) == ["basic", "likes"]


@given(st.lists(st.sampled_from(sorted(KNOWN)), min_size=1))
def test_any_list_of_known_scopes_parses_back_to_its_set(scopes: list[str]) -> None:
    parsed = parse_scope_param(" ".join(scopes), KNOWN)
    assert set(parsed) == set(scopes)
    assert len(parsed) == len(set(parsed))


# Tokens as str.split() sees them: no white space of any kind.
_token = st.text(st.characters(codec="utf-8").filter(lambda c: not c.isspace()), min_size=1)


@given(
    known=st.lists(st.sampled_from(sorted(KNOWN))),
    unknown=_token,
    position=st.integers(min_value=0),
)
def test_any_unknown_token_is_refused_by_name(
    known: list[str], unknown: str, position: int
) -> None:
    assume(unknown not in KNOWN)
    # So that finding it in the message means the error names it, not the listing of scopes.
    assume(unknown not in _message_without_the_unknown_name())
    tokens = list(known)
    tokens.insert(position % (len(tokens) + 1), unknown)
    with pytest.raises(InvalidScopeError) as refused:
        parse_scope_param(" ".join(tokens), KNOWN)
    assert unknown in refused.value.message
