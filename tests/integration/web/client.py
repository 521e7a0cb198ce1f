"""A tiny browser for the web pages over real HTTP: keeps the session cookie, reads CSRF tokens."""

from __future__ import annotations

import html
import re
from typing import Any

import requests

from shared.demo import DEMO_USERS

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def problems(page: requests.Response) -> list[str]:
    """The messages of a page's GOV.UK error summary."""
    summary = page.text.split("govuk-error-summary__list", 1)
    if len(summary) < 2:
        return []
    return [
        html.unescape(m.strip())
        for m in re.findall(r'<a href="#[^"]*">([^<]*)</a>', summary[1].split("</ul>")[0])
    ]


class WebClient:
    """Like a browser without JavaScript. The session cookie is `Secure`, so over plain http in tests
    it is carried by hand (a browser treats localhost as secure; requests does not)."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.cookies: dict[str, str] = {}
        self.last: requests.Response | None = None

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        response = self.http.request(method, self.base + path, headers=headers, **kwargs)
        self.http.cookies.clear()
        for cookie in response.cookies:
            if cookie.value:
                self.cookies[cookie.name] = cookie.value
            else:
                self.cookies.pop(cookie.name, None)
        if "Max-Age=0" in response.headers.get("Set-Cookie", "") or "expires=Thu, 01 Jan 1970" in (
            response.headers.get("Set-Cookie", "")
        ):
            self.cookies.pop("phb_session", None)
        self.last = response
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def follow(self, response: requests.Response) -> requests.Response:
        while response.status_code in (301, 302, 303):
            location = response.headers["Location"]
            if location.startswith("http"):
                location = "/" + location.split("/", 3)[3]
            response = self.get(location)
        return response

    def csrf(self, path: str) -> str:
        page = self.get(path)
        match = _CSRF.search(page.text)
        assert match, f"no CSRF token on {path}: {page.status_code}"
        return match.group(1)

    def hidden(self, path: str) -> dict[str, str]:
        return {k: html.unescape(v) for k, v in _HIDDEN.findall(self.get(path).text)}

    def post(
        self, path: str, data: dict[str, Any], *, form_at: str | None = None
    ) -> requests.Response:
        fields = self.hidden(form_at or path)
        assert "csrf_token" in fields, f"no form on {form_at or path}: {self.last.status_code}"  # type: ignore[union-attr]
        fields.update(data)
        return self.request("POST", path, data=fields)

    def post_again(
        self, page: requests.Response, path: str, data: dict[str, Any]
    ) -> requests.Response:
        """Send the form on `page` (a page shown with errors) again, as a browser would: with its
        own hidden fields, not a fresh page's."""
        fields = {k: html.unescape(v) for k, v in _HIDDEN.findall(page.text)}
        assert "csrf_token" in fields, f"no form on the page: {page.status_code}"
        fields.update(data)
        return self.request("POST", path, data=fields)

    def sign_in(self, sub: str) -> requests.Response:
        assert sub in {s for s, _r, _l in DEMO_USERS}
        return self.post("/sign-in", {"user": sub})
