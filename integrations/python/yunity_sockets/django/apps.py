from django.apps import AppConfig
from django.core import checks


class YunitySocketsConfig(AppConfig):
    name = "yunity_sockets.django"
    label = "yunity_sockets"  # "django" would be a confusing label for an app
    verbose_name = "yunity-sockets"

    def ready(self):
        from . import signals  # noqa: F401  (connects the login and logout receivers)

        checks.register(check_settings)


def check_settings(app_configs=None, **kwargs):
    from django.conf import settings

    from yunity_sockets.client import Config

    errors = []
    try:
        Config.from_settings(getattr(settings, "YUNITY_SOCKETS", {}), "settings.YUNITY_SOCKETS")
    except (TypeError, ValueError) as e:
        errors.append(checks.Error(str(e), id="yunity_sockets.E001"))
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.signed_cookies":
        # The session key must name a session the server can look up; a signed cookie changes with its data.
        errors.append(checks.Error(
            "yunity-sockets needs server-side sessions (db, cached_db, cache or file), not signed_cookies",
            hint="set SESSION_ENGINE to django.contrib.sessions.backends.db (the default)",
            id="yunity_sockets.E002"))
    return errors
