"""Talk to yunity-sockets from Python: send notifications, ask who is online.

    import yunity_sockets
    yunity_sockets.notify([user.pk], {"text": "hello"})
    yunity_sockets.online([1, 2, 3])   # -> {"1", "3"}

Under Django the configuration comes from ``settings.YUNITY_SOCKETS``; elsewhere from ``configure(...)`` or the
environment (``REDIS_URL``). ``Client`` does the same with an explicit configuration.
"""
from .client import Client, Config, DEFAULTS, default_client, configure, notify, online

__all__ = ["Client", "Config", "DEFAULTS", "default_client", "configure", "notify", "online"]
__version__ = "0.1.0"
