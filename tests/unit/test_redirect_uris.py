"""Redirect URI matching by the legacy platform's rules (RFC 6749 §3.1.2.3 leaves it to us)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.redirects import find_matching, redirect_uri_matches


def test_identical_uri_matches() -> None:
    assert redirect_uri_matches("https://app.example/cb", "https://app.example/cb")


def test_request_without_registered_trailing_slash_does_not_match() -> None:
    assert not redirect_uri_matches("https://app.example/cb/", "https://app.example/cb")


def test_request_adding_one_trailing_slash_matches() -> None:
    assert redirect_uri_matches("https://app.example/cb", "https://app.example/cb/")


def test_reference_example_with_a_trailing_slash_and_a_query_matches() -> None:
    assert redirect_uri_matches(
        "http://yoursite.com/callback", "http://yoursite.com/callback/?type=mobile"
    )


def test_reference_example_of_the_site_root_does_not_match_a_callback() -> None:
    assert not redirect_uri_matches("http://yoursite.com/callback", "http://yoursite.com/")


def test_request_adding_two_trailing_slashes_does_not_match() -> None:
    assert not redirect_uri_matches("https://app.example/cb", "https://app.example/cb//")


def test_registered_trailing_slash_does_not_take_another() -> None:
    assert not redirect_uri_matches("https://app.example/cb/", "https://app.example/cb//")


def test_request_with_a_trailing_slash_keeps_the_registered_query_rule() -> None:
    assert redirect_uri_matches(
        "http://yoursite.com/callback?this=that", "http://yoursite.com/callback/?this=that&x=1"
    )
    assert not redirect_uri_matches(
        "http://yoursite.com/callback?this=that", "http://yoursite.com/callback/?x=1&this=that"
    )


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        ("https://app.example", "https://app.example/"),
        ("https://app.example/", "https://app.example"),
    ],
    ids=["empty-then-slash", "slash-then-empty"],
)
def test_an_empty_path_is_the_root_path(registered: str, requested: str) -> None:
    assert redirect_uri_matches(registered, requested)


def test_different_scheme_does_not_match() -> None:
    assert not redirect_uri_matches("https://app.example/cb", "http://app.example/cb")


def test_different_host_does_not_match() -> None:
    assert not redirect_uri_matches("https://app.example/cb", "https://evil.example/cb")


def test_different_port_does_not_match() -> None:
    assert not redirect_uri_matches("https://app.example/cb", "https://app.example:8443/cb")


def test_longer_path_does_not_match() -> None:
    assert not redirect_uri_matches("https://app.example/cb", "https://app.example/cb/evil")


def test_scheme_and_host_compare_case_insensitively() -> None:
    assert redirect_uri_matches("https://app.example/cb", "HTTPS://App.Example/cb")


def test_path_compares_case_sensitively() -> None:
    assert not redirect_uri_matches("https://app.example/cb", "https://app.example/CB")


def test_request_may_add_query_parameters() -> None:
    assert redirect_uri_matches("https://app.example/cb", "https://app.example/cb?state=1")


def test_request_extending_the_registered_query_matches() -> None:
    assert redirect_uri_matches(
        "http://your-redirect-uri?this=that", "http://your-redirect-uri?this=that&another=true"
    )


def test_request_reordering_the_registered_query_does_not_match() -> None:
    assert not redirect_uri_matches(
        "http://your-redirect-uri?this=that", "http://your-redirect-uri?another=true&this=that"
    )


def test_request_repeating_the_registered_query_exactly_matches() -> None:
    assert redirect_uri_matches(
        "http://your-redirect-uri?this=that", "http://your-redirect-uri?this=that"
    )


def test_request_dropping_the_registered_query_does_not_match() -> None:
    assert not redirect_uri_matches(
        "http://your-redirect-uri?this=that", "http://your-redirect-uri"
    )


def test_registered_query_must_end_at_a_parameter_boundary() -> None:
    assert not redirect_uri_matches(
        "http://your-redirect-uri?this=that", "http://your-redirect-uri?this=thatother"
    )


@pytest.mark.parametrize(
    "requested",
    ["https://app.example/cb#fragment", "https://app.example/cb#", "https://app.example/cb?a=1#x"],
)
def test_request_with_a_fragment_does_not_match(requested: str) -> None:
    assert not redirect_uri_matches("https://app.example/cb", requested)


def test_custom_scheme_redirect_matches_itself() -> None:
    assert redirect_uri_matches("photoprinter://oauth/done", "photoprinter://oauth/done")


def test_find_matching_answers_the_registered_uri_that_matches() -> None:
    registered = ["https://app.example/one", "https://app.example/two"]
    assert find_matching(registered, "https://app.example/two?x=1") == "https://app.example/two"


def test_find_matching_answers_none_when_nothing_matches() -> None:
    assert find_matching(["https://app.example/one"], "https://app.example/three") is None


# --- properties ---------------------------------------------------------------------------------

_word = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
_path = st.lists(_word, max_size=3).map(lambda parts: "".join(f"/{p}" for p in parts))
_pair = st.tuples(_word, _word).map(lambda kv: f"{kv[0]}={kv[1]}")
_query = st.lists(_pair, max_size=3).map("&".join)


@st.composite
def registered_uris(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "photoprinter"]))
    host = draw(_word) + ".example"
    path = draw(_path)
    query = draw(_query)
    return f"{scheme}://{host}{path}" + (f"?{query}" if query else "")


@given(registered=registered_uris(), extra=st.lists(_pair, min_size=1, max_size=4))
def test_adding_query_parameters_to_a_matching_uri_still_matches(
    registered: str, extra: list[str]
) -> None:
    separator = "&" if "?" in registered else "?"
    requested = registered + separator + "&".join(extra)
    assert redirect_uri_matches(registered, requested)


@given(registered=registered_uris(), other_path=_path)
def test_changing_the_path_of_a_matching_uri_stops_it_matching(
    registered: str, other_path: str
) -> None:
    base, _, query = registered.partition("?")
    scheme, _, rest = base.partition("://")
    host, slash, path = rest.partition("/")
    assume(other_path != slash + path)
    requested = f"{scheme}://{host}{other_path}" + (f"?{query}" if query else "")
    assert not redirect_uri_matches(registered, requested)


@given(registered=registered_uris(), extra=st.lists(_pair, max_size=3))
def test_adding_one_trailing_slash_to_the_path_still_matches(
    registered: str, extra: list[str]
) -> None:
    base, _, query = registered.partition("?")
    requested = base + "/" + "?" + "&".join([query, *extra] if query else extra)
    assert redirect_uri_matches(registered, requested.rstrip("?"))
