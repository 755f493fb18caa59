"""The phones and the big screen of benchmarks/live_load.py, and what they saw.

A phone joins over its own WebSocket (benchmarks/wsclient.py), retrying a `busy` refusal as the
page does (static/js/play.js: the same join id, up to 8 tries, backoff 0.5 s doubling to 8 s,
jittered, within `--join-timeout`), answers each question once at a
random moment of the answer window after it arrives, and asks for its standing after each
leaderboard; every ack is timed from send to receipt. The host is the logged-in big screen on
`/host` that steps the contest.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from wsclient import ConnectRefused, SioSocket, open_socket

JOIN_TRIES, RETRY_FIRST, RETRY_MAX = 8, 0.5, 8.0  # as static/js/play.js


def retryable(ack: dict[str, Any]) -> bool:
    return not ack.get("ok") and (
        ack.get("retry") is True or ack.get("reason") in ("busy", "server_error")
    )


def backoff(tries: int) -> float:
    return min(RETRY_FIRST * 2 ** max(tries - 1, 0), RETRY_MAX) * (0.5 + random.random())


@dataclass
class Question:
    position: int
    expected: int = 0  # phones seated and connected when the host opened it
    started: float = 0.0
    fanout: list[float] = field(default_factory=list)  # ms, server stamp → phone receipt
    acks: list[float] = field(default_factory=list)  # ms, send → ok ack
    refused: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    ok: int = 0
    late: int = 0  # acks that came after the question's wait was over (counted as lost)
    late_ok: int = 0
    lost: int = 0
    closed: bool = False
    last_sent: float = 0.0
    cpu: float = 0.0
    generator_cpu: float = 0.0
    wall: float = 0.0

    def resolved(self) -> int:
        return self.ok + sum(self.refused.values())


@dataclass
class Load:
    """Everything the phones saw, and the driver's settings."""

    args: argparse.Namespace
    base: str
    pin: str
    branches: list[int]
    questions: dict[int, Question] = field(default_factory=dict)
    joins: list[float] = field(default_factory=list)  # ms, socket open → join ack
    join_refused: Counter[str] = field(default_factory=Counter)
    join_retries: Counter[str] = field(default_factory=Counter)  # retryable refusals, retried
    standing: list[float] = field(default_factory=list)
    standing_refused: Counter[str] = field(default_factory=Counter)
    closed_by_server: int = 0
    loop_lag: list[float] = field(default_factory=list)  # ms, the generator's timer lateness
    last_seat: float = 0.0

    def question(self, position: int) -> Question:
        return self.questions.setdefault(position, Question(position))


class Phone:
    __slots__ = ("load", "index", "sock", "seated", "answered")

    def __init__(self, load: Load, index: int) -> None:
        self.load, self.index = load, index
        self.sock: SioSocket | None = None
        self.seated = False
        self.answered: set[int] = set()

    async def join(self, http: aiohttp.ClientSession) -> None:
        load, limit = self.load, self.load.args.join_timeout
        started = time.time()
        branch = load.branches[self.index % len(load.branches)]
        hello = {"pin": load.pin, "name": f"成员{self.index}", "branch_id": branch,
                 "join_id": secrets.token_hex(16)}  # fmt: skip
        try:
            self.sock = await open_socket(
                http, load.base, "/play", self.on_event, headers={"Origin": load.base},
                timeout=limit,
            )  # fmt: skip
            ack = await self.sock.call("join", hello, timeout=limit - (time.time() - started))
            for tries in range(1, JOIN_TRIES):
                wait = backoff(tries)
                if not retryable(ack) or time.time() + wait - started > limit:
                    break
                load.join_retries[ack.get("reason", "?")] += 1
                await asyncio.sleep(wait)
                ack = await self.sock.call("join", hello, timeout=limit - (time.time() - started))
        except TimeoutError:
            load.join_refused["timed_out"] += 1
            await self.leave()
            return
        except (ConnectRefused, aiohttp.ClientError, OSError, ValueError) as err:
            load.join_refused[f"connect_failed:{err.__class__.__name__}"] += 1
            await self.leave()
            return
        if ack.get("ok"):
            self.seated = True
            load.last_seat = time.time()
            load.joins.append((load.last_seat - started) * 1000)
        else:
            load.join_refused[ack.get("reason", "?")] += 1
            await self.leave()

    async def leave(self) -> None:
        """A phone that was not seated gives up, as a member would close the page."""
        if self.sock is not None:
            await self.sock.close()

    def on_event(self, event: str, payload: Any, at: float) -> None:
        if event != "phase" or not self.seated or not isinstance(payload, dict):
            return
        phase, position = payload.get("phase"), payload.get("position")
        if phase == "question" and position not in self.answered:
            self.answered.add(position)
            q = self.load.question(position)
            q.fanout.append(at * 1000 - payload["server_now"])
            delay = random.uniform(0, self.load.args.answer_window)
            asyncio.get_running_loop().call_later(delay, self.answer, q, payload["question"])
        elif phase == "leaderboard" and self.load.args.standing:
            asyncio.get_running_loop().call_later(random.uniform(0, 2), self.ask_standing)

    def answer(self, q: Question, question: dict[str, Any]) -> None:
        if self.sock is None or not self.sock.open:
            return
        option = random.choice(question["options"])["id"]
        sent = time.time()
        q.sent += 1
        q.last_sent = sent

        def acked(value: Any, at: float) -> None:
            if q.closed:
                q.late += 1
                q.late_ok += isinstance(value, dict) and bool(value.get("ok"))
            elif isinstance(value, dict) and value.get("ok"):
                q.ok += 1
                q.acks.append((at - sent) * 1000)
            else:
                q.refused[value.get("reason", "?") if isinstance(value, dict) else "?"] += 1

        payload = {"position": q.position, "choice": [option]}
        asyncio.ensure_future(self.sock.emit("answer", payload, acked))

    def ask_standing(self) -> None:
        if self.sock is None or not self.sock.open:
            return
        sent, load = time.time(), self.load

        def acked(value: Any, at: float) -> None:
            if isinstance(value, dict) and value.get("ok"):
                load.standing.append((at - sent) * 1000)
            else:
                load.standing_refused[value.get("reason", "?")] += 1

        asyncio.ensure_future(self.sock.emit("standing", {}, acked))


# ---------------------------------------------------------------- the big screen


class Host:
    """The logged-in big screen on `/host`: watches the contest and steps it."""

    def __init__(self, contest_id: int) -> None:
        self.contest_id = contest_id
        self.phase: tuple[str, int] = ("lobby", 0)
        self.changed = asyncio.Event()
        self.sock: SioSocket | None = None

    def on_event(self, event: str, payload: Any, _at: float) -> None:
        if event == "phase":
            self.phase = (payload["phase"], payload["position"])
            self.changed.set()

    async def connect(self, http: aiohttp.ClientSession, base: str, cookie: str) -> None:
        headers = {"Origin": base, **({"Cookie": cookie} if cookie else {})}
        self.sock = await open_socket(http, base, "/host", self.on_event, headers=headers)
        ack = await self.sock.call("watch", {"contest_id": self.contest_id})
        assert ack["ok"], ack
        self.phase = (ack["snapshot"]["phase"], ack["snapshot"]["position"])
        self.ping_interval = self.sock.handshake.get("pingInterval", 0) / 1000

    async def reach(self, action: str, phase: str, position: int, timeout: float = 60) -> None:
        """Step the contest with `action` until the screen shows `phase` at `position`."""
        assert self.sock is not None
        deadline = time.monotonic() + timeout
        while self.phase != (phase, position):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the contest did not reach {phase} {position}: {self.phase}")
            before = self.phase
            self.changed.clear()
            order = {"contest_id": self.contest_id, "action": action}
            try:
                ack = await self.sock.call("control", order, timeout=timeout)
            except TimeoutError:
                raise RuntimeError(f"control {action}: no ack within {timeout:g} s") from None
            if not ack.get("ok") and ack.get("reason") != "wrong_phase":
                raise RuntimeError(f"control {action} refused: {ack}")
            if self.phase == before:
                try:
                    await asyncio.wait_for(self.changed.wait(), 10)
                except TimeoutError:
                    pass
