"""The client: notifications, sessions and presence, as yunity-sockets reads them from redis."""
import dataclasses
import datetime
import importlib
import json
import os
import threading
import uuid
from typing import Any, Iterable, Optional, Set, Type, Union

import redis as redis_lib

# The server's own defaults (redis-session's prefix, redis-pubsub's channel and max_message_bytes).
DEFAULTS = {
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SESSION_PREFIX": "session-store-",
    "CHANNEL": "notifications",
    "STREAM": None,
    "STREAM_MAXLEN": 100000,
    "PRESENCE_PREFIX": "presence:",
    "MAX_MESSAGE_BYTES": 1 << 20,
    "ENCODER": None,
}

# The server takes user ids that are non-empty strings or integers that fit 64 bits.
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1

# Which of KEYS (the presence plugin's `<prefix>user:<user>`, a sorted set: instance -> expiry in ms) still have a
# member whose expiry lies ahead.
# The time is redis's own, the clock the presence plugin stamps the expiries with, so the web servers' clocks
# do not matter.
_ONLINE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local online = {}
for i, key in ipairs(KEYS) do
  if redis.call('ZCOUNT', key, '(' .. now, '+inf') > 0 then online[#online + 1] = i end
end
return online
"""


@dataclasses.dataclass(frozen=True)
class Config:
    """Where and how to talk to yunity-sockets; mirrors the server's settings of the same meaning."""

    redis_url: str = DEFAULTS["REDIS_URL"]
    session_prefix: str = DEFAULTS["SESSION_PREFIX"]
    channel: str = DEFAULTS["CHANNEL"]
    # When set, notifications are XADDed to this stream (for a redis-streams source) instead of PUBLISHed.
    stream: Optional[str] = DEFAULTS["STREAM"]
    stream_maxlen: int = DEFAULTS["STREAM_MAXLEN"]
    presence_prefix: str = DEFAULTS["PRESENCE_PREFIX"]
    # The server rejects larger messages (redis-pubsub's max_message_bytes): refuse them here, loudly.
    max_message_bytes: int = DEFAULTS["MAX_MESSAGE_BYTES"]
    encoder: Optional[Type[json.JSONEncoder]] = None

    @classmethod
    def from_settings(cls, settings: dict, where: str = "YUNITY_SOCKETS", default_encoder=None) -> "Config":
        """From a dict of upper-case keys (the Django setting's shape); unknown keys are refused."""
        if not isinstance(settings, dict):
            raise TypeError(f"{where} must be a dict, not {type(settings).__name__}")
        unknown = sorted(set(settings) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"{where}: unknown keys {unknown} (known: {sorted(DEFAULTS)})")
        values = dict(DEFAULTS)
        values["REDIS_URL"] = os.environ.get("REDIS_URL") or DEFAULTS["REDIS_URL"]
        values["ENCODER"] = default_encoder
        values.update(settings)
        encoder = values["ENCODER"]
        if isinstance(encoder, str):
            module, _, name = encoder.rpartition(".")
            encoder = getattr(importlib.import_module(module), name)
        return cls(
            redis_url=values["REDIS_URL"],
            session_prefix=values["SESSION_PREFIX"],
            channel=values["CHANNEL"],
            stream=values["STREAM"],
            stream_maxlen=values["STREAM_MAXLEN"],
            presence_prefix=values["PRESENCE_PREFIX"],
            max_message_bytes=values["MAX_MESSAGE_BYTES"],
            encoder=encoder,
        )

    def __post_init__(self):
        for name in ("redis_url", "session_prefix", "channel", "presence_prefix"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string, not {value!r}")
        if self.stream is not None and (not isinstance(self.stream, str) or not self.stream):
            raise ValueError(f"stream must be None or a non-empty string, not {self.stream!r}")
        for name in ("stream_maxlen", "max_message_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")


def user_id(user: Any) -> Union[int, str]:
    """A user id as the server takes it: an int that fits 64 bits, a non-empty string, or a model's pk."""
    if isinstance(user, bool):  # bool is an int to Python, but True is nobody's id
        raise TypeError(f"a user id must be an int or a string, not {user!r}")
    if isinstance(user, int):
        if not _INT_MIN <= user <= _INT_MAX:
            raise ValueError(f"user id {user} does not fit in 64 bits")
        return user
    if isinstance(user, str):
        if not user:
            raise ValueError("a user id must not be an empty string")
        return user
    if isinstance(user, uuid.UUID):
        return str(user)
    pk = getattr(user, "pk", None)  # a Django model instance: its primary key
    if pk is not None and not hasattr(user, "__iter__"):
        return user_id(pk)
    raise TypeError(f"a user id must be an int or a string (or a model instance), not {type(user).__name__}")


def _as_list(users: Any) -> list:
    # One id alone is taken as a list of one; a string is an id, never a list of characters.
    if isinstance(users, (str, int, uuid.UUID)) or hasattr(users, "pk"):
        return [users]
    try:
        return list(users)
    except TypeError:
        raise TypeError(f"users must be a list of user ids, not {type(users).__name__}") from None


def _user_ids(users: Any) -> list:
    return [user_id(u) for u in _as_list(users)]


class Client:
    """yunity-sockets as seen from the web application: one redis connection pool and one configuration."""

    def __init__(self, config: Optional[Config] = None, *, redis=None, **options):
        if config is not None and options:
            raise TypeError("pass a Config or options, not both")
        self.config = config or Config(**options)
        self.redis = redis if redis is not None else redis_lib.Redis.from_url(self.config.redis_url)
        self._online = self.redis.register_script(_ONLINE_SCRIPT)

    def encode(self, users: Iterable, data: Any, **extra) -> str:
        """The JSON message notify() sends; raises TypeError or ValueError for what cannot be sent."""
        if "users" in extra or "data" in extra:  # only reachable through **{"users": ...}
            raise TypeError("users and data are notify()'s own arguments")
        message = {"users": _user_ids(users), "data": data, **extra}
        try:
            text = json.dumps(message, cls=self.config.encoder, ensure_ascii=False, allow_nan=False,
                              separators=(",", ":"))
        except TypeError as e:  # e.g. "Object of type set is not JSON serializable"
            raise TypeError(f"the notification cannot be sent as JSON: {e}") from e
        except ValueError as e:  # NaN or infinity, a circular reference
            raise ValueError(f"the notification cannot be sent as JSON: {e}") from e
        size = len(text.encode("utf-8"))
        if size > self.config.max_message_bytes:
            raise ValueError(f"the notification is {size} bytes as JSON, more than the server takes "
                             f"({self.config.max_message_bytes}, redis-pubsub's max_message_bytes)")
        return text

    def notify(self, users: Iterable, data: Any, **extra) -> Union[int, str]:
        """Sends `data` to every connection of `users` (ids, or model instances), as the `message` event's
        `{"data": data, **extra}`. Returns how many server instances received it (PUBLISH's answer: 0 means
        no yunity-sockets is listening), or the stream entry's id when a stream is configured. Nothing is sent
        for an empty list of users (0 is returned)."""
        text = self.encode(users, data, **extra)
        if not json.loads(text)["users"]:
            return 0
        if self.config.stream:
            entry = self.redis.xadd(self.config.stream, {"notification": text},
                                    maxlen=self.config.stream_maxlen, approximate=True)
            return entry.decode() if isinstance(entry, bytes) else entry
        return self.redis.publish(self.config.channel, text)

    def online(self, users: Iterable) -> Set:
        """Which of `users` hold a connection on any yunity-sockets instance (by the presence plugin), returned
        as the values given: online([1, "2", 3]) -> {1, 3} when users 1 and 3 are connected."""
        given = _as_list(users)
        ids = [user_id(u) for u in given]
        if not ids:
            return set()
        keys = [f"{self.config.presence_prefix}user:{u}" for u in ids]
        found = self._online(keys=keys)
        return {given[int(i) - 1] for i in found}

    def store_session(self, session_key: str, user: Any, *, expires_in: Union[int, float, datetime.timedelta]):
        """Writes `<prefix><session_key>` = the user's id for `expires_in` (seconds or a timedelta), as the
        redis-session plugin reads it. A session already expired is removed instead."""
        if isinstance(expires_in, datetime.timedelta):
            expires_in = expires_in.total_seconds()
        milliseconds = int(expires_in * 1000)
        if milliseconds <= 0:
            return self.forget_session(session_key)
        self.redis.set(self.config.session_prefix + session_key, str(user_id(user)), px=milliseconds)

    def forget_session(self, session_key: str):
        """Removes the session: its connections lose their user at once (the server follows the key)."""
        self.redis.delete(self.config.session_prefix + session_key)


_configured: Optional[Config] = None
_clients = {}
_lock = threading.Lock()


def configure(config: Optional[Config] = None, **options) -> Optional[Config]:
    """Sets the configuration of the module-level functions outside Django (under Django, the setting wins).
    Without arguments, goes back to the environment (REDIS_URL)."""
    global _configured
    _configured = config or (Config(**options) if options else None)
    return _configured


def _django_config() -> Optional[Config]:
    try:
        from django.conf import settings
    except ImportError:
        return None
    if not (settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE")):
        return None
    from django.core.serializers.json import DjangoJSONEncoder  # dates, decimals and UUIDs, as JsonResponse
    return Config.from_settings(getattr(settings, "YUNITY_SOCKETS", {}), "settings.YUNITY_SOCKETS",
                                default_encoder=DjangoJSONEncoder)


def default_client() -> Client:
    """The client of the module-level functions: from Django's settings under Django (read on each call, so
    override_settings works), else from configure(), else from the environment (REDIS_URL)."""
    config = _django_config() or _configured or Config.from_settings({}, "the environment")
    with _lock:  # one pool per configuration
        client = _clients.get(config)
        if client is None:
            client = _clients[config] = Client(config)
        return client


def notify(users: Iterable, data: Any, **extra) -> Union[int, str]:
    """Client.notify with the default configuration."""
    return default_client().notify(users, data, **extra)


def online(users: Iterable) -> Set:
    """Client.online with the default configuration."""
    return default_client().online(users)
