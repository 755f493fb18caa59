"""Hostile clients against a real `gunicorn -k gevent` server: foreign origins, compressed and
oversized frames, sockets that stop answering pings, malformed events. Real sockets throughout:
these faults live below Flask-SocketIO's test client."""

from __future__ import annotations

import json
import random
import socket
import time
import zlib

import pytest
import requests
import socketio
from conftest import make_bank, make_branches
from servers import free_port, login_cookie, peak_rss_mb, start_gunicorn, stop, worker_pid
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate

from quiz_server import create_app
from quiz_server.auth import create_user
from quiz_server.config import Settings
from quiz_server.contests import create_contest
from quiz_server.extensions import db

pytestmark = pytest.mark.server

PING_INTERVAL, PING_TIMEOUT = 1, 1
PUBLIC = "http://quiz.example.test"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("transport")
    url = f"sqlite:///{data / 'quiz.sqlite3'}"
    app = create_app(Settings.from_env(database_url=url, data_dir=data, run_timers=False))
    with app.app_context():
        branches = make_branches(db.session)
        create_user("host", "password123", "organizer")
        contest = create_contest(
            db.session, title="传输检查", bank_version=make_bank(db.session), rule=3,
            branches=branches, seed=1,
        )  # fmt: skip
        db.session.commit()
        info = {"contest_id": contest.id, "pin": contest.pin, "branch_id": branches[0].id}
        db.engine.dispose()
    port = free_port()
    log = data / "server.log"
    env = {
        "QUIZ_DATABASE_URL": url,
        "QUIZ_SECRET_KEY": "transport-test-secret-key-of-enough-length",
        "QUIZ_DATA_DIR": str(data),
        "QUIZ_PUBLIC_URL": PUBLIC,
        "QUIZ_PING_INTERVAL": str(PING_INTERVAL),
        "QUIZ_PING_TIMEOUT": str(PING_TIMEOUT),
    }
    proc = start_gunicorn(port, env, log=log)
    base = f"http://127.0.0.1:{port}"
    yield {**info, "base": base, "port": port, "proc": proc, "log": log}
    stop(proc)


class RawSocket:
    """An Engine.IO client over a bare WebSocket (wsproto): it answers pings only when told to,
    and can send frames no well-behaved client would."""

    def __init__(
        self, port: int, *, origin: str | None = None, cookie: str = "", deflate: bool = False
    ) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.closed: CloseConnection | None = None
        self.eof = False
        headers = [(b"Origin", origin.encode())] if origin else []
        headers += [(b"Cookie", cookie.encode())] if cookie else []
        request = Request(
            host=f"127.0.0.1:{port}",
            target="/socket.io/?EIO=4&transport=websocket",
            extensions=[PerMessageDeflate()] if deflate else [],
            extra_headers=headers,
        )
        self.sock.sendall(self.ws.send(request))
        self.accepted: AcceptConnection | None = None
        self.rejected: RejectConnection | None = None
        self.pending: list[str] = []
        while self.accepted is None and self.rejected is None:
            self._read()

    def _read(self, timeout: float = 10) -> bool:
        """Feed one read's bytes to wsproto; False at EOF."""
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
            self.ws.receive_data(None)
        else:
            self.ws.receive_data(data)
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                self.accepted = event
            elif isinstance(event, RejectConnection | RejectData):
                self.rejected = self.rejected or event  # type: ignore[assignment]  # the first rejected event
            elif isinstance(event, TextMessage):
                self.pending.append(event.data)
            elif isinstance(event, CloseConnection):
                self.closed = event
            elif isinstance(event, Ping):
                self.sock.sendall(self.ws.send(event.response()))
        return bool(data)

    def send(self, text: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(text)))

    def receive(self, timeout: float = 10) -> str | None:
        """The next Engine.IO packet, or None once the server has closed the connection."""
        deadline = time.monotonic() + timeout
        while not self.pending:
            if self.eof or time.monotonic() > deadline:
                return None
            try:
                self._read(max(0.05, deadline - time.monotonic()))
            except TimeoutError:
                return None
            except OSError:
                self.eof = True
        return self.pending.pop(0)

    def open(self, namespace: str = "/play") -> str:
        """Engine.IO open, then the Socket.IO connect of a namespace; the server's answer."""
        opened = self.receive()
        assert opened and opened.startswith("0"), opened
        self.send(f"40{namespace},{{}}")
        while (packet := self.receive()) is not None and not packet.startswith("4"):
            pass
        assert packet, "no answer to the namespace connect"
        return packet

    def open_play(self) -> None:
        answer = self.open("/play")
        assert answer.startswith("40/play,"), answer

    def acks(self, timeout: float, expect: set[int] | None = None) -> dict[int, list]:
        """Socket.IO acks (`43/ns,ID[...]`) that arrive within `timeout` (or until every id in
        `expect` has come), by ack id."""
        found: dict[int, list] = {}
        deadline = time.monotonic() + timeout
        while expect is None or not expect <= found.keys():
            packet = self.receive(max(0.05, deadline - time.monotonic()))
            if packet is None:
                break
            if packet == "2":
                self.send("3")
            elif packet.startswith("43"):
                head, _, body = packet[2:].partition(",")
                digits = body[: len(body) - len(body.lstrip("0123456789"))]
                found[int(digits)] = json.loads(body[len(digits) :])
            if time.monotonic() > deadline:
                break
        return found

    def wait_closed(self, timeout: float) -> float | None:
        """Seconds until the server ends the connection (EOF), answering no pings; None if not."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            try:
                if not self._read(0.2):
                    return time.monotonic() - start
            except TimeoutError:
                continue
            except OSError:
                return time.monotonic() - start
        return None

    def close(self) -> None:
        self.sock.close()


def test_a_socket_that_stops_answering_pings_is_closed_within_the_ping_timeout(server):
    raw = RawSocket(server["port"])
    raw.open_play()
    waited = raw.wait_closed(timeout=PING_INTERVAL + PING_TIMEOUT + 8)
    raw.close()
    assert waited is not None, "the server kept a socket that answers no pings"
    assert waited <= PING_INTERVAL + PING_TIMEOUT + 3


EVIL = "http://evil.example"


def test_a_foreign_origin_is_refused_on_both_namespaces_and_the_own_origin_works(server):
    cookie = login_cookie(server["base"], "host", "password123")
    own = f"http://127.0.0.1:{server['port']}"
    for namespace in ("/play", "/host"):
        foreign = RawSocket(server["port"], origin=EVIL, cookie=cookie)
        assert foreign.rejected is not None and foreign.rejected.status_code == 400, namespace
        foreign.close()
        for origin in (own, PUBLIC):
            allowed = RawSocket(server["port"], origin=origin, cookie=cookie)
            assert allowed.accepted is not None, (namespace, origin)
            assert allowed.open(namespace).startswith(f"40{namespace},"), (namespace, origin)
            allowed.close()
    polling = f"{server['base']}/socket.io/?EIO=4&transport=polling"
    assert requests.get(polling, headers={"Origin": EVIL}, timeout=10).status_code == 400
    assert requests.get(polling, headers={"Origin": own}, timeout=10).status_code == 200

    host = socketio.Client(reconnection=False)  # the big screen as it connects, polling first
    host.connect(server["base"], namespaces=["/host"], headers={"Cookie": cookie}, wait_timeout=10)
    assert host.call("watch", {"contest_id": server["contest_id"]}, namespace="/host")["ok"]
    host.disconnect()


def test_a_compressed_message_is_refused_before_it_is_expanded(server):
    """0.5 MB of deflate that would inflate to ~500 MB: the server never agrees to compression,
    so the frame is a protocol error, the connection ends, and memory stays put."""
    pid = worker_pid(server["proc"])
    before = peak_rss_mb(pid)
    bystander = socketio.Client(reconnection=False)
    bystander.connect(server["base"], namespaces=["/play"], transports=["websocket"])
    raw = RawSocket(server["port"], deflate=True)
    assert raw.accepted is not None
    assert not raw.accepted.extensions, "the server agreed to permessage-deflate"
    raw.open_play()
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"4" * (1 << 20)
    deflated = b"".join(compressor.compress(chunk) for _ in range(500)) + compressor.flush()
    deflated = deflated[:-4] if deflated.endswith(b"\x00\x00\xff\xff") else deflated
    raw.sock.sendall(_frame(0x1, deflated, rsv1=True))
    assert raw.wait_closed(timeout=10) is not None, "the connection stayed open"
    raw.close()
    started = time.monotonic()
    assert bystander.call("sync", {}, namespace="/play", timeout=5)["reason"] == "not_joined"
    assert time.monotonic() - started < 1
    bystander.disconnect()
    assert peak_rss_mb(pid) - before < 50


def test_an_oversized_message_ends_the_connection_without_being_buffered(server):
    pid = worker_pid(server["proc"])
    before = peak_rss_mb(pid)
    raw = RawSocket(server["port"])
    raw.open_play()
    near_limit = json.dumps(
        ["join", {"pin": server["pin"], "name": "长" * 4000, "branch_id": server["branch_id"]}],
        ensure_ascii=False,
    )
    raw.send(f"42/play,1{near_limit}")
    assert raw.acks(timeout=5, expect={1})[1][0]["reason"] == "name_too_long"  # read, refused
    try:  # one 64 MB frame, announced in the header: the server stops reading long before
        raw.sock.sendall(_frame(0x1, b"4" + b"a" * (64 << 20)))
    except OSError:
        pass
    assert raw.wait_closed(timeout=10) is not None
    raw.close()
    assert peak_rss_mb(pid) - before < 50


def _frame(opcode: int, payload: bytes, rsv1: bool = False) -> bytes:
    """One masked client frame, built by hand (wsproto will not send a frame it did not agree)."""
    head = bytes([0x80 | (0x40 if rsv1 else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    mask = b"\x01\x02\x03\x04"
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    masked = (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big") if n else b""
    return head + mask + masked


def test_an_oversized_polling_post_is_refused_at_once(server):
    polling = f"{server['base']}/socket.io/?EIO=4&transport=polling"
    opened = requests.get(polling, timeout=10).text
    sid = json.loads(opened[1:])["sid"]
    started = time.monotonic()
    reply = requests.post(f"{polling}&sid={sid}", data=b"4" + b"a" * (1 << 20), timeout=30)
    assert reply.status_code == 413
    assert time.monotonic() - started < 2


def _join(server) -> str:
    phone = socketio.Client(reconnection=False)
    phone.connect(server["base"], namespaces=["/play"], transports=["websocket"])
    joined = phone.call(
        "join",
        {
            "pin": server["pin"],
            "name": f"成员{random.randrange(10**6)}",
            "branch_id": server["branch_id"],
        },
        namespace="/play",
    )
    phone.disconnect()
    assert joined["ok"], joined
    return joined["token"]


def test_malformed_events_get_a_bad_request_ack(server):
    raw = RawSocket(server["port"])
    raw.open_play()
    frames = [
        '["sync"]',  # no argument
        '["sync",{},{}]',  # two
        '["sync","x"]',  # not an object
        "[]",
        "{}",
        "[1,{}]",
        '["no_such_event",{}]',
        "not json",
        '["*",{}]',
    ]
    for ack_id, body in enumerate(frames, start=1):
        raw.send(f"42/play,{ack_id}{body}")
    acks = raw.acks(timeout=5, expect=set(range(1, len(frames) + 1)))
    raw.close()
    assert sorted(acks) == list(range(1, len(frames) + 1))
    assert {ack[0]["reason"] for ack in acks.values()} == {"bad_request"}


def test_a_connect_event_sent_by_the_client_does_not_rerun_the_connect_handler(server):
    token = _join(server)
    raw = RawSocket(server["port"])
    raw.open_play()  # no token: not bound to any seat
    auth = json.dumps({"token": token})
    raw.send(f'42/play,1["connect",{auth},{auth}]')
    raw.send('42/play,2["sync",{}]')
    acks = raw.acks(timeout=5, expect={1, 2})
    raw.close()
    assert acks[1][0]["reason"] == "bad_request"
    assert acks[2][0]["reason"] == "not_joined"  # the token never bound this socket


def _fuzz_frames(rng: random.Random, n: int) -> tuple[list[str], set[int]]:
    """`n` frames, a mix of events of every shape (each with an ack id) and garbage (none)."""
    names = ["join", "answer", "sync", "standing", "connect", "disconnect", "*", "", "x" * 300]
    values = [None, 1, -1, 2**40, "A", ["A"], [], {}, {"position": "0"}, [[{}]], True, 1.5]
    frames, ack_ids = [], set()
    for i in range(1, n + 1):
        kind = rng.random()
        if kind < 0.6:
            args = [rng.choice(values) for _ in range(rng.choice([0, 1, 1, 2, 3]))]
            if rng.random() < 0.5:
                args = [{"pin": rng.choice(["", "1", None]), "position": rng.choice(values)}]
            head = rng.choice(names + [rng.choice(values)])
            frames.append(f"42/play,{i}" + json.dumps([head, *args]))
            ack_ids.add(i)
        elif kind < 0.8:
            body = "".join(
                rng.choice('[]{}",:0123456789abc\\\x00中') for _ in range(rng.randrange(40))
            )
            frames.append(f"42/play,{i}{body.lstrip('0123456789')}")  # a digit would join the id
            ack_ids.add(i)
        else:
            garbage = "".join(rng.choice('023456789xyz/,[]{}"') for _ in range(rng.randrange(30)))
            if garbage[:1] in ("1", "4") or garbage[:2] in ("40", "41", "45", "46"):
                garbage = "x" + garbage  # not a close, a (dis)connect or a binary header
            frames.append(garbage)
    return frames, ack_ids


def test_two_thousand_fuzzed_frames_each_ack_answered_and_the_log_kept_short(server):
    from quiz_server.transport import bad_frames

    log_before = server["log"].read_text() if server["log"].exists() else ""
    frames, ack_ids = _fuzz_frames(random.Random(10), 2000)
    raw = RawSocket(server["port"])
    raw.open_play()
    acks: dict[int, list] = {}
    for start in range(0, len(frames), 100):
        for frame in frames[start : start + 100]:
            raw.send(frame)
        acks.update(raw.acks(timeout=0.3))
    acks.update(raw.acks(timeout=10, expect=ack_ids - acks.keys()))
    polling = f"{server['base']}/socket.io/?EIO=4&transport=polling"
    sid = json.loads(requests.get(polling, timeout=10).text[1:])["sid"]
    requests.post(f"{polling}&sid={sid}", data="40/play,{}", timeout=10)
    for frame in frames[:40]:  # the same garbage through long-polling, a few frames per POST
        body = "\x1e".join([frame, frame[::-1]])
        assert (
            requests.post(f"{polling}&sid={sid}", data=body.encode(), timeout=10).status_code < 500
        )
    still_there = socketio.Client(reconnection=False)
    still_there.connect(server["base"], namespaces=["/play"], transports=["websocket"])
    assert still_there.call("sync", {}, namespace="/play", timeout=5)["reason"] == "not_joined"
    still_there.disconnect()
    raw.close()

    missing = sorted(ack_ids - set(acks))
    assert not missing, (
        f"{len(missing)} events with an ack id got none, e.g. {frames[missing[0] - 1]!r}"
    )
    assert all(ack and ack[0]["ok"] is False for ack in acks.values())
    written = server["log"].read_text()[len(log_before) :]
    assert "Traceback" not in written, written[:2000]
    lines = [line for line in written.splitlines() if line.strip()]
    assert 0 < len(lines) <= 2 * bad_frames.limit + 2, lines


def test_refusals_are_logged_one_line_each_and_at_most_the_limit_a_minute(caplog):
    from quiz_server.transport import BadFrameLog

    now = [0.0]
    frames = BadFrameLog(limit=3, period=60, clock=lambda: now[0])
    with caplog.at_level("WARNING", logger="quiz_server.transport"):
        for i in range(10):
            frames.note(f"frame {i}")
        now[0] = 61
        frames.note("frame 10")
    assert [r.getMessage() for r in caplog.records] == [
        "refused from a client: frame 0",
        "refused from a client: frame 1",
        "refused from a client: frame 2",
        "7 more refusals of client input not logged",
        "refused from a client: frame 10",
    ]
    assert not any(r.exc_info for r in caplog.records)
