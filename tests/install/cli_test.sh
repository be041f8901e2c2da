#!/usr/bin/env bash
# The real binary's startup refusals: one clear line naming the culprit, and a non-zero exit.
set -uo pipefail
exe=$1 plugin_dir=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
failures=0
expect() {  # expect "<description>" "<pattern>" args...
  local what=$1 pattern=$2; shift 2
  local out status
  out=$("$exe" "$@" 2>&1); status=$?
  if [ "$status" -eq 0 ] || ! grep -q -- "$pattern" <<<"$out" || [ "$(wc -l <<<"$out")" -ne 1 ]; then
    echo "FAIL: $what: status $status, output:"; echo "$out" | sed 's/^/  /'; failures=$((failures + 1))
  else
    echo "ok: $what"
  fi
}
echo '{"socketio": [1,2]}' > "$work/type.json"
echo '{"socketio": {' > "$work/bad.json"
echo 'not a library' > "$work/fake.so"
expect "missing -w" "missing -w PORT" -p 1
expect "missing -p" "missing -p PORT" -w 1
expect "unknown option" "unrecognised option '--bogus'" -w 1 -p 2 --bogus
expect "unknown plugin" "plugin 'nope' not found" -w 1 -p 2 --plugins nope
expect "not a plugin" "fake.so: not a loadable library" -w 1 -p 2 --plugins "$work/fake.so"
expect "ABI mismatch" "old-abi.so: built for another ABI" -w 1 -p 2 --plugins "$plugin_dir/old-abi.so"
expect "duplicate name" "a plugin named 'good' is already loaded" -w 1 -p 2 --plugins "$plugin_dir/good.so,$plugin_dir/duplicate.so"
expect "bad JSON config" "not valid JSON" -w 1 -p 2 --config "$work/bad.json"
expect "config of a wrong type" '"socketio" must be an object' -w 1 -p 2 --config "$work/type.json"
expect "bad plugin setting" "plugin socketio: unknown setting \"nonsense\"" -w 0 -p 0 --plugins socketio --config <(echo '{"socketio":{"nonsense":1}}')
out=$("$exe" --help); [ $? -eq 0 ] && grep -q -- "--plugins" <<<"$out" && echo "ok: --help" || { echo "FAIL: --help"; failures=$((failures+1)); }
out=$("$exe" --version); [ $? -eq 0 ] && grep -q "yunity-sockets" <<<"$out" && echo "ok: --version" || { echo "FAIL: --version"; failures=$((failures+1)); }
[ "$failures" -eq 0 ] || exit 1
