"""A small asyncio HTTP/1.1 client: one request, its response streamed line by line with the
time each line arrived.

Why not a client library: a serving benchmark needs the arrival time of every streamed line,
bounded reads (a server that never ends its stream, or sends 10 GB, must not hang or fill the
load generator) and no redirects followed; and its own overhead must be small and measured
(``benchmarks/test_serve_load.py``). The standard library's streams give all of that in a page;
TLS (hosted APIs) comes from ``ssl``. Connections are kept alive and reused, as a real client
of a serving engine does, so TTFT does not include a TCP handshake per request.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from aipcbench.errors import UserInputError

MAX_HEADER_BYTES = 64 * 1024
MAX_LINE_BYTES = 4 * 2**20  # one SSE event; a chunk of generated text is far smaller


class HttpError(Exception):
    """The exchange failed: connection refused or reset, a timeout, a malformed or oversized
    response. ``str`` is one line naming what happened."""


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int
    base_path: str  # "" or "/v1"-like, without a trailing slash

    @classmethod
    def parse(cls, url: str, flag: str = "--endpoint") -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UserInputError(f"{flag}: expected http://HOST:PORT or https://HOST, got '{url}'")
        if parts.username or parts.password:
            raise UserInputError(
                f"{flag}: put credentials in an environment variable (--api-key-env), not the URL"
            )
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UserInputError(f"{flag}: bad port in '{url}'") from None
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    connection: Connection

    def lines(
        self, *, idle_timeout_s: float, deadline: float, max_body_bytes: int
    ) -> AsyncIterator[tuple[float, bytes]]:
        return self.connection.body_lines(self, idle_timeout_s, deadline, max_body_bytes)

    async def read_all(self, *, idle_timeout_s: float, deadline: float, max_body_bytes: int) -> bytes:
        parts = [
            line
            async for _, line in self.lines(
                idle_timeout_s=idle_timeout_s, deadline=deadline, max_body_bytes=max_body_bytes
            )
        ]
        return b"\n".join(parts)


class Connection:
    """One TCP (or TLS) connection to an endpoint, used for one request at a time."""

    def __init__(self, endpoint: Endpoint, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.endpoint, self.reader, self.writer = endpoint, reader, writer
        self.reusable = False
        self.requests = 0  # sent on this connection so far: a reused one may have been closed idle

    @classmethod
    async def open(cls, endpoint: Endpoint, timeout_s: float) -> Connection:
        context = ssl.create_default_context() if endpoint.scheme == "https" else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(endpoint.host, endpoint.port, ssl=context, limit=MAX_LINE_BYTES),
                timeout_s,
            )
        except asyncio.TimeoutError:
            raise HttpError(f"connect to {endpoint.origin}: no answer in {timeout_s:g} s") from None
        except (OSError, ssl.SSLError) as exc:
            raise HttpError(f"connect to {endpoint.origin}: {exc.strerror or exc}") from None
        return cls(endpoint, reader, writer)

    def close(self) -> None:
        self.reusable = False
        try:
            self.writer.close()
        except (OSError, RuntimeError):
            pass

    async def send(
        self, method: str, path: str, headers: dict[str, str], body: bytes, timeout_s: float
    ) -> Response:
        """Send the request and read the status line and headers (not the body)."""
        self.reusable = False
        self.requests += 1
        host = self.endpoint.host if ":" not in self.endpoint.host else f"[{self.endpoint.host}]"
        head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{self.endpoint.port}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head += [f"Content-Length: {len(body)}", "", ""]
        try:
            self.writer.write("\r\n".join(head).encode("latin-1") + body)
            await asyncio.wait_for(self.writer.drain(), timeout_s)
            status_line = await asyncio.wait_for(self.reader.readline(), timeout_s)
            response_headers = await asyncio.wait_for(self._headers(), timeout_s)
        except asyncio.TimeoutError:
            raise HttpError(f"no response headers in {timeout_s:g} s") from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            raise HttpError(f"connection failed: {type(exc).__name__}: {exc}") from None
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HttpError(f"not an HTTP response: {status_line[:60]!r}")
        return Response(int(parts[1]), response_headers, self)

    async def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        total = 0
        while True:
            line = await self.reader.readline()
            total += len(line)
            if total > MAX_HEADER_BYTES:
                raise HttpError(f"response headers larger than {MAX_HEADER_BYTES} bytes")
            if not line:
                raise HttpError("connection closed in the response headers")
            if line in (b"\r\n", b"\n"):
                return headers
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()

    async def _read(self, coroutine, idle_timeout_s: float, deadline: float):
        to_deadline = deadline - time.monotonic()
        left = min(idle_timeout_s, to_deadline)
        if left <= 0:
            raise HttpError("the response took longer than the request's time limit")
        try:
            return await asyncio.wait_for(coroutine, left)
        except asyncio.TimeoutError:
            if to_deadline < idle_timeout_s:  # a stream that never ends, however lively
                raise HttpError("the response took longer than the request's time limit") from None
            raise HttpError(f"the response stalled: nothing for {left:.3g} s") from None
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError, ValueError) as exc:
            raise HttpError(f"the response broke off: {type(exc).__name__}") from None

    async def body_lines(
        self, response: Response, idle_timeout_s: float, deadline: float, max_body_bytes: int
    ) -> AsyncIterator[tuple[float, bytes]]:
        """Yield (perf_counter time of arrival, line without its end) for the whole body, then
        mark the connection reusable if the server allows it."""
        chunked = "chunked" in response.headers.get("transfer-encoding", "").lower()
        length_text = response.headers.get("content-length")
        if not chunked and length_text is not None and not length_text.isdigit():
            raise HttpError(f"bad Content-Length {length_text[:30]!r}")
        remaining = int(length_text) if length_text is not None and not chunked else None
        if remaining is not None and remaining > max_body_bytes:
            raise HttpError(f"response body of {remaining} bytes is over the {max_body_bytes}-byte limit")
        pending, total = b"", 0
        async for piece in self._pieces(chunked, remaining, idle_timeout_s, deadline):
            arrived = time.perf_counter()
            total += len(piece)
            if total > max_body_bytes:
                raise HttpError(f"response body over the {max_body_bytes}-byte limit")
            pending += piece
            *complete, pending = pending.split(b"\n")
            if len(pending) > MAX_LINE_BYTES:
                raise HttpError(f"a response line over {MAX_LINE_BYTES} bytes")
            for line in complete:
                yield arrived, line.rstrip(b"\r")
        if pending:
            yield time.perf_counter(), pending.rstrip(b"\r")
        keep = response.headers.get("connection", "").lower() != "close"
        self.reusable = keep and (chunked or remaining is not None)

    async def _pieces(self, chunked: bool, remaining: int | None, idle_timeout_s: float, deadline: float):
        if chunked:
            while True:
                size_line = await self._read(self.reader.readline(), idle_timeout_s, deadline)
                if not size_line:
                    raise HttpError("connection closed inside a chunked body")
                size_text = size_line.split(b";")[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise HttpError(f"bad chunk size {size_text[:20]!r}") from None
                if size == 0:
                    while (await self._read(self.reader.readline(), idle_timeout_s, deadline)) not in (
                        b"\r\n",
                        b"\n",
                        b"",
                    ):
                        pass  # trailers
                    return
                if size > MAX_LINE_BYTES * 4:
                    raise HttpError(f"a chunk of {size} bytes is over the limit")
                yield await self._read(self.reader.readexactly(size), idle_timeout_s, deadline)
                await self._read(self.reader.readline(), idle_timeout_s, deadline)
        elif remaining is not None:
            while remaining > 0:
                piece = await self._read(self.reader.read(min(remaining, 65536)), idle_timeout_s, deadline)
                if not piece:
                    raise HttpError("connection closed before the announced body length")
                remaining -= len(piece)
                yield piece
        else:  # the body ends when the server closes the connection
            while True:
                piece = await self._read(self.reader.read(65536), idle_timeout_s, deadline)
                if not piece:
                    return
                yield piece


class Pool:
    """Idle kept-alive connections to one endpoint, reused one request at a time."""

    def __init__(self, endpoint: Endpoint, connect_timeout_s: float = 10.0):
        self.endpoint, self.connect_timeout_s = endpoint, connect_timeout_s
        self._idle: list[Connection] = []

    async def acquire(self) -> Connection:
        while self._idle:
            connection = self._idle.pop()
            if not connection.reader.at_eof():
                return connection
            connection.close()
        return await Connection.open(self.endpoint, self.connect_timeout_s)

    async def fresh(self) -> Connection:
        return await Connection.open(self.endpoint, self.connect_timeout_s)

    def release(self, connection: Connection) -> None:
        if connection.reusable:
            self._idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()
