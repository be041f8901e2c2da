#!/usr/bin/env bash
# What scripts/run (and examples/django/run) build, TARGETS="yunity-sockets yunity_plugins", as the Ninja build
# graph has it: the server and every plugin of plugins/, and none of the example plugins (yunity_examples: echo,
# conformance), which only the tests load and the default target (scripts/test, CI) builds.
#   build_targets.sh NINJA BUILD_DIR
set -euo pipefail
ninja="$1" build="$2"
# The plugin libraries the commands that build these targets (from scratch) link.
plugins() { "$ninja" -C "$build" -t commands "$@" | grep -oE "lib/yunity-sockets/plugins/[A-Za-z0-9_-]+\.so" | sort -u; }
run=$(plugins yunity-sockets yunity_plugins)
all=$(plugins all)
examples=$(plugins yunity_examples)
failures=0
has() {  # LIST FILE: whether the list of inputs names the file
  grep -qx "$2" <<<"$1"
}
check() {  # WHAT COMMAND...: ok when the command succeeds
  local what="$1"
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
lacks() { ! has "$@"; }
for p in socketio redis-session redis-pubsub redis-streams admin-http memory-session http-publish presence; do
  check "run's targets build $p.so" has "$run" "lib/yunity-sockets/plugins/$p.so"
done
for p in echo conformance; do
  check "run's targets leave out $p.so" lacks "$run" "lib/yunity-sockets/plugins/$p.so"
  check "yunity_examples builds $p.so" has "$examples" "lib/yunity-sockets/plugins/$p.so"
  check "the default target builds $p.so" has "$all" "lib/yunity-sockets/plugins/$p.so"
done
[ "$failures" -eq 0 ]
