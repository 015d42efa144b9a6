"""Graph ``/v1.0/me`` and ``/v1.0/directoryObjects/getByIds``: a user's token gets its user object; an app-only
token gets Graph's 400 (``/me`` is only valid with delegated authentication)."""

from __future__ import annotations

from typing import Any

from notation_devstack.cloud.http import HttpError, Request, Response
from notation_devstack.entra.authority import Directory, User
from notation_devstack.vault.tokens import InvalidToken, TokenIssuer


def _graph_error(status: int, code: str, message: str) -> HttpError:
    return HttpError(status, code, message, {"error": {"code": code, "message": message, "innerError": {}}})


def _user_object(base: str, user: User) -> dict[str, Any]:
    return {"@odata.context": f"{base}/v1.0/$metadata#users/$entity", "@odata.type": "#microsoft.graph.user",
            "id": user.object_id, "userPrincipalName": user.upn, "displayName": user.display_name,
            "mail": user.upn, "givenName": None, "surname": None, "jobTitle": None, "businessPhones": [],
            "mobilePhone": None, "officeLocation": None, "preferredLanguage": None}


class Graph:
    def __init__(self, directory: Directory, issuer: TokenIssuer, audience: str) -> None:
        self.directory = directory
        self.issuer = issuer
        self.audience = audience.rstrip("/")

    def route(self, request: Request) -> Response | None:
        seg = request.segments
        if not seg or seg[0] not in ("v1.0", "beta"):
            return None
        token = request.bearer()
        if not token:
            raise _graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
        try:
            principal = self.issuer.validate(token, {self.audience, self.audience + "/"}, lenient=False,
                                             default_principal="")
        except InvalidToken as exc:
            raise _graph_error(401, "InvalidAuthenticationToken", f"Access token validation failure. {exc}") from exc
        base = request.base
        if seg[1:] == ["me"] and request.method == "GET":
            user = self.directory.user(principal.object_id)
            if user is None:
                raise _graph_error(400, "BadRequest", "/me request is only valid with delegated authentication flow.")
            return Response(200, _user_object(base, user))
        if seg[1:] == ["directoryObjects", "getByIds"] and request.method == "POST":
            ids = request.json().get("ids") or []
            found = [_user_object(base, u) for u in (self.directory.user(str(i)) for i in ids) if u is not None]
            return Response(200, {"@odata.context": f"{base}/v1.0/$metadata#directoryObjects", "value": found})
        if len(seg) == 2 and seg[1] in ("users", "servicePrincipals", "groups") and request.method == "GET":
            # az resolves an --assignee by filtering users (upn/mail) and service principals (names)
            flt = request.query.get("$filter", "")
            users = list(self.directory.users.values()) if seg[1] == "users" else []
            found = [_user_object(base, u) for u in users if not flt or u.upn.lower() in flt.lower()
                     or u.object_id.lower() in flt.lower()]
            return Response(200, {"@odata.context": f"{base}/v1.0/$metadata#{seg[1]}", "value": found})
        if len(seg) == 3 and seg[1] in ("users", "directoryObjects") and request.method == "GET":
            user = self.directory.user(seg[2]) or self.directory.users.get(seg[2].lower())
            if user is None:
                raise _graph_error(404, "Request_ResourceNotFound",
                                   f"Resource '{seg[2]}' does not exist or one of its queried reference-property "
                                   "objects are not present.")
            return Response(200, _user_object(base, user))
        raise _graph_error(400, "BadRequest", f"Resource not found for the segment '{seg[-1]}'.")
