"""The Django app: keeps `session-store-<session key>` in redis in step with Django's logins and logouts.

Add "yunity_sockets.django" to INSTALLED_APPS; see integrations/python/README.md.
"""
