"""Login writes `<prefix><session key>` = the user's pk with the session's expiry; logout deletes it.

A failure to reach redis is logged, not raised: a redis outage must not stop people from logging in or out of
the site. `manage.py yunity_sockets_sync` writes the sessions again afterwards.
"""
import logging

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from yunity_sockets.client import default_client

log = logging.getLogger("yunity_sockets")


def store_session(request, user):
    """Writes the request's session for `user` into redis, removing the key the browser came with when the
    session key changed (Django rotates it at login: cycle_key(), or flush() when another user was logged
    in, which sends no user_logged_out). Call it yourself after rotating a key by other means, e.g. after
    update_session_auth_hash() or set_expiry()."""
    session = request.session
    if session.session_key is None:  # a backend that names the session only when saving it
        session.save()
    client = default_client()
    previous = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if previous and previous != session.session_key:
        client.forget_session(previous)
    # The same text Django keeps in the session (_auth_user_id), so a UUID or string pk reads the same.
    client.store_session(session.session_key, user._meta.pk.value_to_string(user),
                         expires_in=session.get_expiry_age())


@receiver(user_logged_in, dispatch_uid="yunity_sockets.login")
def on_login(sender, request=None, user=None, **kwargs):
    if request is None or not hasattr(request, "session") or user is None:
        return  # login() without a request (some tests, custom flows): there is no session to publish
    try:
        store_session(request, user)
    except Exception:
        log.exception("yunity-sockets: could not write the session of user %s into redis", user.pk)


@receiver(user_logged_out, dispatch_uid="yunity_sockets.logout")
def on_logout(sender, request=None, user=None, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    key = request.session.session_key  # the signal comes before Django flushes the session
    if not key:
        return
    try:
        default_client().forget_session(key)
    except Exception:
        # The user's connections keep receiving until the key expires: worth an error, not a broken logout.
        log.exception("yunity-sockets: could not remove session %s... from redis at logout", key[:8])
