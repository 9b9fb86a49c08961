"""The HTML of the sign-in and consent pages.

Plain f-strings: every value that comes from a request or the ledger passes through ``_e``
(``html.escape`` with quotes), so an app's name or a ``state`` cannot inject markup. The pages
load nothing from elsewhere: the style is inline, and the Content-Security-Policy sent with them
(``page_headers``) forbids scripts, framing and posting forms anywhere but here.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.validation import shown_safely

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    # RFC 6749 §10.13: the consent page must not be framed (clickjacking).
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    # The authorization request's URL stays here, whatever page comes next.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #fafafa;
       color: #262626; margin: 0; }
main { max-width: 26rem; margin: 3rem auto; background: #fff; border: 1px solid #dbdbdb;
       border-radius: 8px; padding: 2rem; }
h1 { font-size: 1.3rem; margin: 0 0 1rem; }
p { line-height: 1.45; }
.muted { color: #737373; font-size: .9rem; }
.error { background: #fdecea; border: 1px solid #f5c2c0; color: #8a1f17; padding: .6rem .8rem;
         border-radius: 6px; }
label { display: block; font-weight: 600; margin: .8rem 0 .3rem; }
input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .55rem;
       border: 1px solid #dbdbdb; border-radius: 6px; font-size: 1rem; }
ul.scopes { list-style: none; padding: 0; margin: 1rem 0; }
ul.scopes li { border-top: 1px solid #efefef; padding: .6rem 0; }
ul.scopes li strong { display: block; font-family: ui-monospace, Menlo, monospace; }
.mode { display: inline-block; font-size: .8rem; font-weight: 700; text-transform: uppercase;
        letter-spacing: .04em; padding: .15rem .5rem; border-radius: 999px; }
.mode.sandbox { background: #fff4d6; color: #7a5500; }
.mode.live { background: #e3f6e8; color: #17602b; }
.buttons { display: flex; gap: .75rem; margin-top: 1.5rem; }
button { flex: 1; font-size: 1rem; padding: .65rem; border-radius: 6px; cursor: pointer;
         border: 1px solid #dbdbdb; background: #fff; }
button.primary { background: #0095f6; border-color: #0095f6; color: #fff; font-weight: 600; }
form.inline { display: inline; }
.who { line-height: 1.45; margin: 1rem 0; }
button.link { border: none; background: none; padding: 0; color: #00376b; flex: none;
              font-size: .9rem; text-decoration: underline; }
"""

MODE_NOTES = {
    "sandbox": "This app is in sandbox mode: only its invited sandbox users can authorize it, "
    "and it can see only their 20 most recent media.",
    "live": "This app is live: any user of the platform can authorize it.",
}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _hidden(fields: Mapping[str, str | None]) -> str:
    return "".join(
        f'<input type="hidden" name="{_e(name)}" value="{_e(value)}">'
        for name, value in fields.items()
        if value is not None
    )


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def signin_page(
    *,
    action: str,
    csrf_token: str,
    next_url: str,
    app_name: str,
    username: str = "",
    error: str | None = None,
) -> str:
    error_html = f'<p class="error" role="alert">{_e(error)}</p>' if error else ""
    return _page(
        "Sign in",
        f"<h1>Sign in</h1>"
        f'<p class="muted">Sign in to continue to <strong>{_e(shown_safely(app_name))}'
        "</strong>.</p>"
        f"{error_html}"
        f'<form method="post" action="{_e(action)}">'
        f"{_hidden({'csrf_token': csrf_token, 'next': next_url})}"
        '<label for="username">Username</label>'
        f'<input type="text" id="username" name="username" value="{_e(username)}" '
        'autocomplete="username" autocapitalize="none" required autofocus>'
        '<label for="password">Password</label>'
        '<input type="password" id="password" name="password" '
        'autocomplete="current-password" required>'
        '<div class="buttons"><button type="submit" class="primary" id="signin">Sign in'
        "</button></div></form>",
    )


@dataclass(frozen=True)
class ScopeLine:
    name: str
    description: str


def consent_page(
    *,
    action: str,
    csrf_token: str,
    app_name: str,
    app_description: str,
    website: str,
    redirect_host: str,
    mode: str,
    scopes: Sequence[ScopeLine],
    username: str,
    request_fields: Mapping[str, str | None],
    signout_action: str | None,
    signout_next: str,
) -> str:
    # Registration refuses invisible and text-direction characters; a name recorded before
    # that shows them as U+FFFD rather than letting them reorder the page's text.
    app_name, app_description = shown_safely(app_name), shown_safely(app_description)
    items = "".join(f"<li><strong>{_e(s.name)}</strong>{_e(s.description)}</li>" for s in scopes)
    signout = (
        f'<form class="inline" method="post" action="{_e(signout_action)}">'
        f"{_hidden({'csrf_token': csrf_token, 'next': signout_next})}"
        '<button type="submit" class="link" id="signout">Not you?</button></form>'
        if signout_action
        else ""
    )
    return _page(
        f"Authorize {app_name}",
        f'<h1>Authorize <span id="app-name">{_e(app_name)}</span></h1>'
        f'<p><span class="mode {_e(mode)}" id="app-mode">{_e(mode)}</span></p>'
        f'<p class="muted">{_e(app_description)} &middot; {_e(website)}</p>'
        f'<div class="who"><strong>{_e(app_name)}</strong> asks to use your account '
        f'<strong id="username">{_e(username)}</strong> {signout}</div>'
        f"<p>If you authorize it, {_e(app_name)} will be able</p>"
        f'<ul class="scopes" id="scopes">{items}</ul>'
        f'<p class="muted">{_e(MODE_NOTES.get(mode, ""))}</p>'
        f'<p class="muted">You will be sent back to <strong>{_e(redirect_host)}</strong>.</p>'
        f'<form method="post" action="{_e(action)}">'
        f"{_hidden({**request_fields, 'csrf_token': csrf_token})}"
        '<div class="buttons">'
        '<button type="submit" name="decision" value="deny" id="deny">Cancel</button>'
        '<button type="submit" name="decision" value="allow" class="primary" id="allow">'
        "Authorize</button></div></form>",
    )
