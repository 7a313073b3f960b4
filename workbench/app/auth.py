"""Who is asking: the local user, or a Supabase user proven by a JWT.

Local mode (the default) binds to 127.0.0.1 and has exactly one user, with no login: every
request acts as :data:`LOCAL_USER`. Server mode (``workbench serve --server-mode``) requires
``Authorization: Bearer <jwt>`` on the API and an ``access_token`` cookie or ``?token=`` on the
pages. Tokens are verified with ``SUPABASE_JWT_SECRET`` (HS256, what Supabase projects sign
with by default) or, when ``SUPABASE_JWKS_URL`` is set, with the project's JWKS (RS256/ES256).
The role comes from ``app_metadata.role`` (builder, educator, admin) and the plan tier from
``app_metadata.plan`` - the claims a user cannot edit themselves (``user_metadata`` they can) -
on every request: the token, not a copy taken at first sight, says what the caller may do.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from typing import Any

from workbench.config import settings
from workbench.errors import UnauthorizedError, ValidationError

ROLES: tuple[str, ...] = ("builder", "educator", "admin")
TIERS: tuple[str, ...] = ("free", "premium", "educator")
LOCAL_USER_ID = "00000000-0000-0000-0000-000000000001"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. ``token`` is kept to act as the user against Supabase.
    ``tier`` is ``""`` for a local user whose plan is not pinned by the environment."""

    user_id: str
    email: str = ""
    role: str = "builder"
    tier: str = "free"
    token: str | None = field(default=None, repr=False)
    local: bool = False
    #: ``jwt`` (Supabase access token), ``api_token`` (personal token) or ``local``
    via: str = "jwt"
    issued_at: float | None = None  # the JWT's iat (revocation compares it)
    expires_at: float | None = None  # the JWT's exp
    jti: str | None = None  # the JWT's id (the deny-list holds these)
    token_id: str | None = None  # the personal token's row id

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def to_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "email": self.email, "role": self.role,
                "tier": self.tier, "local": self.local, "via": self.via}


def local_tier() -> str | None:
    """``WORKBENCH_LOCAL_TIER`` when set (it pins the local user's plan), else None: the
    plan stored on the local profile stands (the Plan usage page switches it)."""
    tier = (settings().local_tier or "").strip()
    if not tier:
        return None
    if tier not in TIERS:
        raise ValidationError(
            f"WORKBENCH_LOCAL_TIER={tier!r} is not a plan; use one of {', '.join(TIERS)}.",
            details={"variable": "WORKBENCH_LOCAL_TIER", "tier": tier, "known": list(TIERS)},
        )
    return tier


def local_principal() -> Principal:
    """The single user of local mode; role and tier overridable for demos and tests.

    ``WORKBENCH_LOCAL_ROLE`` (default ``admin``: the only user reviews their own queue) and
    ``WORKBENCH_LOCAL_TIER`` (unset: the local profile's stored plan, ``free`` at first;
    set: that plan, written onto the profile by :func:`workbench.app.services.user_id`,
    because quotas read the profile, never the principal).
    """
    role = settings().local_role
    if role not in ROLES:
        raise ValidationError(
            f"WORKBENCH_LOCAL_ROLE={role!r} is not a role; use one of {', '.join(ROLES)}.",
            details={"role": role, "known": list(ROLES)},
        )
    tier = local_tier()
    return Principal(user_id=LOCAL_USER_ID, email="local@localhost", role=role,
                     tier=tier or "", local=True, via="local")


@functools.lru_cache(maxsize=4)
def _jwks_client(url: str) -> Any:
    """One ``PyJWKClient`` per JWKS URL for the process: it caches the key set (and each
    signing key by ``kid``), so a request does not fetch the JWKS again. An unknown ``kid``
    (a rotated key) triggers one refetch, at most every 30 s, so tokens with made-up key
    ids cannot make the server hammer the JWKS endpoint."""
    import jwt

    return jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=300, cache_keys=True,
                           timeout=10, cooldown_duration=30)


def verify_jwt(token: str) -> Principal:
    """Verify a Supabase access token and read the caller from its claims.

    Raises
    ------
    UnauthorizedError
        Missing configuration, bad signature, expired token or a token without ``sub``.
    """
    try:
        import jwt
    except ImportError:  # pragma: no cover - pyjwt is a dependency of the app extra
        from workbench.errors import MissingDependencyError

        raise MissingDependencyError.for_extra("pyjwt", "app") from None
    env = settings()
    audience, secret, jwks_url = (env.supabase_jwt_audience, env.supabase_jwt_secret,
                                  env.supabase_jwks_url)
    try:
        if jwks_url:
            key: Any = _jwks_client(jwks_url).get_signing_key_from_jwt(token).key
            algorithms = ["RS256", "ES256"]
        elif secret:
            key, algorithms = secret, ["HS256"]
        else:
            raise UnauthorizedError(
                "Server mode needs SUPABASE_JWT_SECRET (or SUPABASE_JWKS_URL) to verify tokens.",
                details={"missing": "SUPABASE_JWT_SECRET"},
            )
        claims = jwt.decode(token, key, algorithms=algorithms, audience=audience,
                            options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise UnauthorizedError("The access token has expired; sign in again.",
                                details={"reason": "expired"}) from None
    except jwt.PyJWTError as exc:
        raise UnauthorizedError(f"The access token is not valid: {exc}.",
                                details={"reason": type(exc).__name__}) from None
    try:
        subject = str(uuid.UUID(str(claims["sub"])))
    except ValueError:
        raise UnauthorizedError("The access token's subject is not a Supabase user id (a "
                                "UUID).", details={"reason": "bad_subject"}) from None
    meta = claims.get("app_metadata") or {}
    if not isinstance(meta, dict):
        meta = {}
    role = str(meta.get("role")) if meta.get("role") in ROLES else "builder"
    iat, exp, jti = claims.get("iat"), claims.get("exp"), claims.get("jti")
    return Principal(user_id=subject, email=str(claims.get("email") or ""),
                     role=role, tier=str(meta.get("plan") or meta.get("tier") or "free"),
                     token=token,
                     issued_at=float(iat) if isinstance(iat, int | float) else None,
                     expires_at=float(exp) if isinstance(exp, int | float) else None,
                     jti=str(jti) if jti else None)


def presented_token(headers: Any, cookie: str | None = None,
                    query_token: str | None = None) -> str | None:
    """The credential of one request: ``Authorization: Bearer``, else the page's
    ``access_token`` cookie or ``?token=``."""
    auth = headers.get("Authorization", "") if headers is not None else ""
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else (cookie or query_token)
    return token or None


def principal_from_headers(headers: Any, *, server_mode: bool, cookie: str | None = None,
                           query_token: str | None = None) -> Principal:
    """The caller of one request by its Supabase JWT alone (signature, expiry, claims).
    Requests go through :func:`workbench.app.access.resolve`, which adds personal API
    tokens and revocation."""
    if not server_mode:
        return local_principal()
    token = presented_token(headers, cookie, query_token)
    if not token:
        raise UnauthorizedError("Sign in: send 'Authorization: Bearer <Supabase access token>'.",
                                details={"reason": "missing_token"})
    return verify_jwt(token)
