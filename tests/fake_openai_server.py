"""A fake OpenAI-compatible server for the serving tests' failure paths (stdlib only, loopback).

    python tests/fake_openai_server.py --port P [--mode MODE] [--tokens N] [--delay-ms D]

Modes: ok (streams N text events and a usage event), never-ready (/health answers 503),
exit (exits at once with code 3, as a server whose port was taken does), crash-after-K (serves K
completions, then dies), status-CODE (every completion answers HTTP CODE), malformed (a broken
event), hang (headers, then nothing), redirect (302 to another host), huge (an endless stream
of large events), close-after-K (closes each connection after K answers, with no
`Connection: close`), json (a completion answered as application/json, not a stream), escapes (text
and errors with terminal escapes and a spreadsheet formula), no-usage (no usage event).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

ESCAPES = '\x1b[2J\x1b]0;pwned\x07=HYPERLINK("http://x")'


def _event(text: str, usage: dict | None = None) -> bytes:
    body: dict = {"object": "text_completion", "model": "fake", "choices": [{"index": 0, "text": text}]}
    if usage is not None:
        body = {"object": "text_completion", "model": "fake", "choices": [], "usage": usage}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class Fake:
    def __init__(self, mode: str, tokens: int, delay_s: float, log_prompts: str | None = None):
        self.mode, self.tokens, self.delay_s = mode, tokens, delay_s
        self.served = 0
        self.log_prompts = log_prompts

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        on_connection = 0
        try:
            while True:
                request = await reader.readline()
                if not request:
                    return
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                path = request.split()[1].decode()
                on_connection += 1
                if self.mode.startswith("close-after-") and on_connection > int(self.mode.rsplit("-", 1)[1]):
                    return  # the next request read, then closed unanswered (cpp-httplib's keep-alive limit)
                if not await self.answer(path, body, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def answer(self, path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        if path == "/health":
            code = 503 if self.mode == "never-ready" else 200
            writer.write(f"HTTP/1.1 {code} X\r\nContent-Length: 2\r\n\r\nok".encode())
            await writer.drain()
            return True
        self.served += 1
        if self.log_prompts:
            with open(self.log_prompts, "a") as log:
                log.write(json.dumps(json.loads(body or b"{}").get("prompt")) + "\n")
        if self.mode.startswith("crash-after-") and self.served > int(self.mode.rsplit("-", 1)[1]):
            os._exit(1)
        if self.mode.startswith("status-"):
            text = b'{"error": "busy"}'
            writer.write(f"HTTP/1.1 {self.mode[7:]} X\r\nContent-Length: {len(text)}\r\n\r\n".encode() + text)
            await writer.drain()
            return True
        if self.mode == "redirect":
            writer.write(
                b"HTTP/1.1 302 Found\r\nLocation: http://example.invalid/v1\r\nContent-Length: 0\r\n\r\n"
            )
            await writer.drain()
            return True
        if self.mode == "json":
            text = b'{"choices": [{"text": "hello"}]}'
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(text)}\r\n\r\n"
            writer.write(head.encode() + text)
            await writer.drain()
            return True
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        await writer.drain()
        if self.mode == "hang":
            await asyncio.sleep(3600)
        while self.mode == "trickle":  # a lively stream that never ends: a token every 20 ms
            await asyncio.sleep(0.02)
            writer.write(_chunk(_event(" w")))
            await writer.drain()
        requested = json.loads(body or b"{}").get("max_tokens", self.tokens)
        for number in range(10**6 if self.mode == "huge" else int(requested)):
            await asyncio.sleep(self.delay_s)
            text = f" w{number}" if self.mode != "escapes" else ESCAPES
            if self.mode == "huge":
                text = "x" * 65536
            writer.write(_chunk(_event(text)))
            if self.mode == "malformed" and number == 1:
                writer.write(_chunk(b"data: {not json\n\n"))
            if self.mode == "escapes" and number == 1:
                error = json.dumps({"error": {"message": ESCAPES}}).encode()
                writer.write(_chunk(b"data: " + error + b"\n\n"))
            await writer.drain()
        if self.mode != "no-usage":
            usage = {
                "prompt_tokens": 7,
                "completion_tokens": int(requested),
                "total_tokens": 7 + int(requested),
            }
            writer.write(_chunk(_event("", usage)))
        writer.write(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        await writer.drain()
        return True


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", default="ok")
    parser.add_argument("--tokens", type=int, default=8)
    parser.add_argument("--delay-ms", type=float, default=1.0)
    parser.add_argument(
        "--log-prompts", help="append every completion's prompt to this file, one JSON a line"
    )
    args = parser.parse_args()
    if args.mode == "exit":
        print(f"error: couldn't bind to port {args.port}: address in use", file=sys.stderr)
        sys.exit(3)
    fake = Fake(args.mode, args.tokens, args.delay_ms / 1000, args.log_prompts)
    server = await asyncio.start_server(fake.handle, "127.0.0.1", args.port)
    print(f"fake server listening on {args.port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
