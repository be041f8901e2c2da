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
expect "bad plugin value" "plugin admin-http: setting \"token\" must be a non-empty string" -w 0 -p 0 --plugins admin-http --config <(echo '{"admin-http":{"token":""}}')
expect "reference of a missing plugin" "plugin 'nope' not found" --config-reference --plugins nope
# --config-reference: the stock plugins by default (beside the executable), any plugin by path; no ports needed.
out=$("$exe" --config-reference); status=$?
if [ $status -eq 0 ] && grep -q '^### `socketio`$' <<<"$out" && grep -q '^| `token` | a non-empty string | none |' <<<"$out" \
  && grep -q '^| `YUNITY_ADMIN_TOKEN` | setting `token` of `admin-http` |$' <<<"$out"; then echo "ok: --config-reference"
else echo "FAIL: --config-reference: status $status"; failures=$((failures+1)); fi
out=$("$exe" --config-reference --plugins "$plugin_dir/good.so"); status=$?
if [ $status -eq 0 ] && grep -q '^### `good`$' <<<"$out" && grep -q 'does not describe its settings' <<<"$out" \
  && ! grep -q '^### `socketio`$' <<<"$out"; then echo "ok: --config-reference of a plugin without a description"
else echo "FAIL: --config-reference --plugins good.so: status $status"; failures=$((failures+1)); fi
out=$("$exe" --help); [ $? -eq 0 ] && grep -q -- "--plugins" <<<"$out" && echo "ok: --help" || { echo "FAIL: --help"; failures=$((failures+1)); }
out=$("$exe" --version); [ $? -eq 0 ] && grep -q "yunity-sockets" <<<"$out" && echo "ok: --version" || { echo "FAIL: --version"; failures=$((failures+1)); }
[ "$failures" -eq 0 ] || exit 1
