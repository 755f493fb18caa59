"""A minimal Socket.IO v5 client over one Engine.IO v4 WebSocket, for load generation.

python-socketio's client costs more CPU per message than the server it measures; this one does
only what a phone does: open the WebSocket (`/socket.io/?EIO=4&transport=websocket`), connect
one namespace with an auth object (`40/play,{...}`), send events with ack ids
(`42/play,7["join",{...}]`), match the acks (`43/play,7[{...}]`), hand server events to one
callback, and answer the server's pings (`2` → `3`). No long-polling, no reconnection, no
binary packets: a socket that closes stays closed and its pending calls are simply never acked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson

OnEvent = Callable[[str, Any, float], None]  # (event, payload, receipt time.time())
OnAck = Callable[[Any, float], None]  # (ack payload, receipt time.time())


class ConnectRefused(Exception):
    """The server refused the namespace (`44`) or closed before connecting it."""


class SioSocket:
    """One Engine.IO WebSocket with one Socket.IO namespace connected on it."""

    def __init__(self, namespace: str, on_event: OnEvent | None = None) -> None:
        self.namespace = namespace
        self.on_event = on_event
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.open = False
        self._prefix = "" if namespace == "/" else f"{namespace},"
        self._acks: dict[int, OnAck] = {}
        self._next_id = 0
        self._connected: asyncio.Future[Any] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._auth: dict[str, Any] | None = None
        self.handshake: dict[str, Any] = {}  # the Engine.IO open packet: sid, pingInterval, …

    async def connect(
        self,
        http: aiohttp.ClientSession,
        base: str,
        auth: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 20,
    ) -> None:
        self._auth = auth
        url = base.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await http.ws_connect(
            url, headers=headers, autoping=False, compress=0, max_msg_size=0, timeout=timeout
        )
        self._connected = asyncio.get_running_loop().create_future()
        # A refusal that comes after connect() gave up is nobody's news: mark it as read.
        self._connected.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._reader = asyncio.create_task(self._read())
        try:
            await asyncio.wait_for(asyncio.shield(self._connected), timeout)
        except BaseException:
            await self.close()
            raise

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for message in self.ws:
                if message.type is aiohttp.WSMsgType.TEXT:
                    await self._packet(message.data)
                elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                    break
        except (aiohttp.ClientError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open = False
            if self._connected is not None and not self._connected.done():
                self._connected.set_exception(ConnectRefused("closed before connect"))

    async def _packet(self, data: str) -> None:
        kind = data[:1]
        if kind == "2":  # Engine.IO ping
            await self.ws.send_str("3")  # type: ignore[union-attr]
        elif kind == "0":  # Engine.IO open: now connect the namespace
            self.handshake = orjson.loads(data[1:])
            body = orjson.dumps(self._auth).decode() if self._auth else ""
            await self.ws.send_str(f"40{self._prefix}{body}")  # type: ignore[union-attr]
        elif kind == "4":
            self._socketio(data[1:])
        elif kind == "1":  # Engine.IO close
            await self.close()

    def _socketio(self, data: str) -> None:
        kind, rest = data[:1], data[1:]
        if rest.startswith(self._prefix):
            rest = rest[len(self._prefix) :]
        if kind == "2":  # event, maybe with an ack id the server wants (none do here)
            body = rest[rest.index("[") :]
            event, *args = orjson.loads(body)
            if self.on_event is not None:
                self.on_event(event, args[0] if args else None, time.time())
        elif kind == "3":  # ack of one of our calls
            split = rest.index("[")
            handler = self._acks.pop(int(rest[:split]), None)
            if handler is not None:
                values = orjson.loads(rest[split:])
                handler(values[0] if values else None, time.time())
        elif kind == "0" and self._connected is not None and not self._connected.done():
            self.open = True
            self._connected.set_result(None)
        elif kind == "4" and self._connected is not None and not self._connected.done():
            self._connected.set_exception(ConnectRefused(rest))
        elif kind == "1":  # the server disconnected the namespace
            self.open = False

    async def emit(self, event: str, payload: Any, on_ack: OnAck | None = None) -> None:
        """Send `[event, payload]`; `on_ack` gets the ack's first argument when it arrives."""
        ack_id = ""
        if on_ack is not None:
            self._next_id += 1
            ack_id = str(self._next_id)
            self._acks[self._next_id] = on_ack
        body = orjson.dumps([event, payload]).decode()
        await self.ws.send_str(f"42{self._prefix}{ack_id}{body}")  # type: ignore[union-attr]

    async def call(self, event: str, payload: Any, timeout: float = 20) -> Any:
        """Send an event and wait for its ack (TimeoutError when none comes in time)."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def settle(value: Any, _at: float) -> None:
            if not done.done():
                done.set_result(value)

        await self.emit(event, payload, settle)
        return await asyncio.wait_for(done, timeout)

    def pending(self) -> int:
        return len(self._acks)

    async def close(self) -> None:
        self.open = False
        if self.ws is not None and not self.ws.closed:
            try:
                await self.ws.close()
            except (aiohttp.ClientError, ConnectionError, RuntimeError):
                pass
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()


async def open_socket(
    http: aiohttp.ClientSession,
    base: str,
    namespace: str,
    on_event: OnEvent | None = None,
    auth: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 20,
) -> SioSocket:
    """A connected socket on `namespace` (ConnectRefused, TimeoutError or aiohttp errors if not)."""
    sock = SioSocket(namespace, on_event)
    await sock.connect(http, base, auth, headers, timeout)
    return sock
