"""Login load benchmark: does password hashing stall the one gevent worker that serves phones?

    python benchmarks/login_load.py                 # this checkout
    python benchmarks/login_load.py --code DIR      # another checkout (e.g. `git archive` of an
                                                    # older commit), for a before/after figure

Starts `gunicorn -k gevent -w 1 quiz_server.wsgi:app` on loopback with a fresh SQLite database
and one organizer, then measures the public landing page's latency (one GET every 50 ms) three
ways: idle; while --logins concurrent wrong logins for names that do not exist run; while the
same number of wrong passwords for the existing account run. Also prints each login's own
latency, known vs unknown name (an unknown name must not be faster: that would tell names).
Keep --logins under the per-address throttle (30 per 15 minutes) or later logins are refused
without hashing. All traffic stays on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, start_gunicorn, stop  # noqa: E402

SECRET = "login-benchmark-key-of-at-least-32-characters"
PASSWORD = "bench-password"


def create_organizer(code: Path, env: dict[str, str]) -> None:
    """Through the command line of the checkout under test, so its own schema is used."""
    argv = [sys.executable, "-c", "from quiz_server.cli import main; main()", "users", "create",
            "bench", "--role", "organizer", "--password", PASSWORD]  # fmt: skip
    subprocess.run(argv, cwd=code, env=env, check=True, capture_output=True, timeout=120)


def page_latencies(base: str, stop_at: threading.Event, out: list[float]) -> None:
    """Open loop: a GET of the landing page every 50 ms whether or not the last one answered,
    so a stalled event loop shows in every request that waits on it (as phones would)."""
    requests_sent: list[threading.Thread] = []

    def one() -> None:
        started = time.perf_counter()
        requests.get(f"{base}/", timeout=60)
        out.append(time.perf_counter() - started)

    while not stop_at.is_set():
        thread = threading.Thread(target=one)
        thread.start()
        requests_sent.append(thread)
        time.sleep(0.05)
    for thread in requests_sent:
        thread.join(timeout=60)


def wrong_login(base: str, username: str, out: list[float]) -> None:
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=60).text
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, "no CSRF token on the login page"
    data = {"csrf_token": found.group(1), "username": username, "password": "not-the-password"}
    started = time.perf_counter()
    reply = http.post(f"{base}/login", data=data, timeout=120, allow_redirects=False)
    out.append(time.perf_counter() - started)
    assert reply.status_code == 200, f"login answered {reply.status_code} (throttled?)"


def under_logins(base: str, names: list[str]) -> tuple[list[float], list[float]]:
    """Public page latencies while one wrong login per name runs, all at once."""
    pages: list[float] = []
    logins: list[float] = []
    stop_at = threading.Event()
    watcher = threading.Thread(target=page_latencies, args=(base, stop_at, pages))
    watcher.start()
    time.sleep(0.3)
    workers = [threading.Thread(target=wrong_login, args=(base, n, logins)) for n in names]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    stop_at.set()
    watcher.join(timeout=60)
    return pages, logins


def ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"median {statistics.median(ordered) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms (n={len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout to serve")
    parser.add_argument("--logins", type=int, default=16, help="concurrent wrong logins")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "QUIZ_DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "QUIZ_SECRET_KEY": SECRET,
            "QUIZ_DATA_DIR": folder,
        }
        port = free_port()
        proc = start_gunicorn(port, env, cwd=args.code.resolve())
        base = f"http://127.0.0.1:{port}"
        try:
            create_organizer(args.code.resolve(), env)
            idle: list[float] = []
            stop_at = threading.Event()
            timer = threading.Timer(4, stop_at.set)
            timer.start()
            page_latencies(base, stop_at, idle)
            unknown_pages, unknown = under_logins(base, [f"nobody{i}" for i in range(args.logins)])
            time.sleep(1)
            known_pages, known = under_logins(base, ["bench"] * min(args.logins, 9))
        finally:
            stop(proc)
    print(f"code: {args.code.resolve()}")
    print(f"public page, idle:                                {ms(idle)}")
    print(f"public page, {args.logins} wrong logins (unknown names):    {ms(unknown_pages)}")
    print(f"public page, {min(args.logins, 9)} wrong passwords (known name):     {ms(known_pages)}")
    print(f"login latency, unknown name:                      {ms(unknown)}")
    print(f"login latency, known name, wrong password:        {ms(known)}")


if __name__ == "__main__":
    main()
