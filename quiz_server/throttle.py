"""Failed logins, counted per username and per client address, with the `limits` library.

The counts live in this process's memory for the embedded default (one process: exact). With
`QUIZ_MESSAGE_QUEUE` set they live in that Redis, under the deployment's channel name, so the
processes behind nginx share them. Only failures count; a success clears the username's count.
"""

from __future__ import annotations

from flask import current_app
from limits import RateLimitItem, parse, storage, strategies

# A member of staff mistyping gets ten tries; a guesser gets 40 an hour per account.
PER_USERNAME = parse("10 per 15 minutes")
# One office behind one NAT address shares this; a password sprayer does not get far.
PER_ADDRESS = parse("30 per 15 minutes")
REFUSED = "登录失败次数过多，为保护账号安全已暂停登录，请 15 分钟后再试。"


class LoginThrottle:
    def __init__(self, storage_uri: str | None, namespace: str) -> None:
        store = storage.storage_from_string(storage_uri) if storage_uri else storage.MemoryStorage()
        self.limiter = strategies.MovingWindowRateLimiter(store)
        self.namespace = namespace

    def _rules(self, username: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
        return [
            (PER_USERNAME, "login-user", username.casefold()),
            (PER_ADDRESS, "login-addr", address),
        ]

    def allowed(self, username: str, address: str) -> bool:
        return all(
            self.limiter.test(item, self.namespace, kind, key)
            for item, kind, key in self._rules(username, address)
        )

    def failed(self, username: str, address: str) -> None:
        for item, kind, key in self._rules(username, address):
            self.limiter.hit(item, self.namespace, kind, key)

    def succeeded(self, username: str) -> None:
        self.limiter.clear(PER_USERNAME, self.namespace, "login-user", username.casefold())


def login_throttle() -> LoginThrottle:
    """The app's throttle, made on first use (the memory store starts a timer thread)."""
    found = current_app.extensions.get("quiz_login_throttle")
    if found is None:
        settings = current_app.config["QUIZ"]
        found = LoginThrottle(settings.message_queue, settings.message_channel)
        current_app.extensions["quiz_login_throttle"] = found
    return found
