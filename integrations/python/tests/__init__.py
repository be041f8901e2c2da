"""Tests against a real redis-server and the real yunity-sockets (see harness.py)."""
