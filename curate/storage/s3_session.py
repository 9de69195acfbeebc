"""The HTTP session of curate's s3 filesystems: aiobotocore's, without ``Expect: 100-continue``.

aiohttp waits for a server's "100 Continue" with no timeout at all (``sock_read`` is not armed while no read is
in flight), so a store that accepts connections and then stops answering (SIGSTOP, a hung gateway) would hold a
writer for ever. The header only lets a server refuse a body before it is sent; without it ``read_timeout``
bounds the wait for the answer. It is not a signed header: signatures are unchanged. Imports the s3 extra
(aiobotocore); :mod:`curate.storage.s3_waits` imports this module only where that is installed.
"""

from __future__ import annotations

from typing import Any

from aiobotocore.httpsession import AIOHTTPSession


class NoContinueSession(AIOHTTPSession):
    """Sends every request without ``Expect: 100-continue``; otherwise aiobotocore's aiohttp session."""

    async def send(self, request: Any) -> Any:
        if "Expect" in request.headers:
            del request.headers["Expect"]
        return await super().send(request)
