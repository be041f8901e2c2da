"""The example site: a login form, a page that shows notifications live, a form that sends one.

Everything that differs between machines comes from the environment, so that the test can run it on free ports.
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
REPO = HERE.parent.parent
# The package from this checkout; a real site would `pip install` it instead.
sys.path.insert(0, str(REPO / "integrations" / "python"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example only, never in production")
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "yunity_sockets.django",  # writes session-store-<session key> at login, deletes it at logout
    "demo",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "demo.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request"]}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": os.environ.get("EXAMPLE_DB", str(HERE / "db.sqlite3"))}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

YUNITY_SOCKETS = {"REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}
# Where browsers reach yunity-sockets. Cookies do not care about ports, so the HttpOnly session cookie set by this
# site on 127.0.0.1:8000 goes along to 127.0.0.1:5000, where redis-session's `cookie` setting reads it.
SOCKETS_URL = os.environ.get("SOCKETS_URL", "http://127.0.0.1:5000")
# socket.io-client 4's browser bundle, from npm (tests/node_modules has it after scripts/setup); no CDN.
SOCKET_IO_JS = os.environ.get("SOCKET_IO_JS",
                              str(REPO / "tests" / "node_modules" / "socket.io-client-v4" / "dist" / "socket.io.min.js"))
