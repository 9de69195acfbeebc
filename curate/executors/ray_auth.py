"""Token authentication for Ray >= 2.5x clusters started with ``RAY_AUTH_MODE=token``.

Ray's own clients send ``Authorization: Bearer <token>`` only when ``RAY_AUTH_MODE=token`` is set in
their environment, reading the token from ``RAY_AUTH_TOKEN``, the file named by
``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token``, in that order (the dashboard also accepts the
header ``X-Ray-Authorization``). The Jobs client here sends the header itself, so an explicit token
(``--token``, ``--token-file``, or those variables) works whatever ``RAY_AUTH_MODE`` says.
"""

from __future__ import annotations

import os
from pathlib import Path

from curate.executors.cluster_errors import ClusterAuthError

AUTH_MODE_ENV = "RAY_AUTH_MODE"
TOKEN_ENV = "RAY_AUTH_TOKEN"
TOKEN_PATH_ENV = "RAY_AUTH_TOKEN_PATH"
DEFAULT_TOKEN_FILE = Path.home() / ".ray" / "auth_token"
TOKEN_HINT = (
    "get the token on the head with `ray get-auth-token` and pass it with --token / --token-file, "
    f"or export {TOKEN_ENV}=<token> (or {AUTH_MODE_ENV}=token with the token in ~/.ray/auth_token)"
)


def _read(path: str | Path, source: str) -> str:
    try:
        token = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ClusterAuthError(f"cannot read the token file {path} ({source}): {exc.strerror}") from None
    if not token:
        raise ClusterAuthError(f"the token file {path} ({source}) is empty; {TOKEN_HINT}")
    return token


def resolve_token(token: str | None = None, token_file: str | None = None) -> str | None:
    """The token to send, or None: explicit argument, file, RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, then
    ~/.ray/auth_token but only when RAY_AUTH_MODE=token (as Ray does: never send it unasked)."""
    if token:
        return token.strip()
    if token_file:
        return _read(token_file, "--token-file")
    if os.environ.get(TOKEN_ENV, "").strip():
        return os.environ[TOKEN_ENV].strip()
    if os.environ.get(TOKEN_PATH_ENV):
        return _read(os.environ[TOKEN_PATH_ENV], TOKEN_PATH_ENV)
    if os.environ.get(AUTH_MODE_ENV, "").lower() == "token" and DEFAULT_TOKEN_FILE.exists():
        return _read(DEFAULT_TOKEN_FILE, f"{AUTH_MODE_ENV}=token")
    return None


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def enable_driver_token(token: str) -> None:
    """Let ``ray.init`` in this process authenticate with ``token``. Ray reads the auth settings from the
    environment once, when it is first imported (there is no public way to make it read them again), so the
    executor calls this before its ``import ray``; see :data:`IMPORTED_EARLY_HINT`."""
    os.environ[AUTH_MODE_ENV] = "token"
    os.environ[TOKEN_ENV] = token


IMPORTED_EARLY_HINT = (
    "Ray reads RAY_AUTH_MODE and the token once per process, when it is first imported: if this process "
    "imported ray before curate set them, set them in the environment before starting Python (or run "
    "curate in a fresh process)"
)
