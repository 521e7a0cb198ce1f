"""The one blueprint every page hangs on: CSRF on every form, safe headers, GOV.UK error pages."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from services.gateway.web.core import ServiceError, check_csrf, render, sign_out
from services.gateway.web.segments import check_view_args
from services.gateway.web.uploads import upload_too_large
from shared.errors import DomainError

bp = Blueprint("web", __name__)


# Pages that send a file on. Their body may be a 5 MB file and its form (uploads.UPLOAD_PAGE_BYTES);
# a larger one is never read, so its CSRF token can't be: the page then changes nothing and
# answers with its form and the size message (uploads.receive).
UPLOAD_PAGES = frozenset({"web.provider_request_documents", "web.request_documents"})


@bp.before_request
def _protect() -> None:
    # Every page's URL values in their own format first (web/segments.py): the page's 404
    # otherwise, before the sign-in redirect or the CSRF check, and before any service call.
    # (A hook of the blueprint's own, not a URL value preprocessor: lean.py's API path mirrors
    # Flask's dispatch only while the app has none.)
    check_view_args(request.view_args)
    if request.endpoint in UPLOAD_PAGES and request.method == "POST" and upload_too_large():
        return
    check_csrf()


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    code = err.code or 500
    if code == 400 and err.description == "csrf":
        title = "Your form could not be sent"
        message = "This can happen if the page was open for a long time. Go back, refresh the page and try again."
    elif code == 403:
        title = "You cannot see this page"
        message = "Your role does not give you access to this page. Sign in as someone else if you need it."
    elif code == 404:
        title = "Page not found"
        message = "If you typed the web address, check it is correct."
    else:
        title = "Sorry, there is a problem"
        message = "Try again later."
    return render("web/error.html", title=title, message=message), code


@bp.errorhandler(DomainError)
def _dependency_error(err: DomainError):
    if err.status == 401:
        sign_out()
        return redirect(url_for("web.sign_in"))
    return render(
        "web/error.html",
        title="Sorry, there is a problem with the service",
        message="Part of the service is not answering right now. Try again in a few minutes.",
    ), (503 if err.status >= 500 else err.status)


@bp.errorhandler(ServiceError)
def _service_error(err: ServiceError):
    if err.status in (403, 404):
        return _http_error(abort_exception(err.status))
    return render(
        "web/error.html",
        title="Sorry, there is a problem with the service",
        message=err.detail if err.status < 500 else "Try again in a few minutes.",
    ), (err.status if err.status >= 400 else 500)


def abort_exception(code: int) -> HTTPException:
    try:
        abort(code)
    except HTTPException as err:
        return err
    raise AssertionError("unreachable")
