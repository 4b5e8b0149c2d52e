# Start and stop tests/mock_openai.py on 127.0.0.1 from a shell test. Source
# it after lib.sh and set KEY, the API key the mock expects, before the first
# start_mock. The test is skipped when /usr/bin/python3 is missing. The key
# file is removed once the mock has read it, and the mock is stopped on exit.
PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "/usr/bin/python3 not found (run ./quickstart to install it)"
MOCK_PID=

# start_mock NAME SCRIPT: run the mock with SCRIPT, and set URL and LOG.
start_mock() {
    rm -f "$TMP/$1.port"
    mkdir -p "$TMP/keydir"
    printf '%s' "$KEY" >"$TMP/keydir/key"
    "$PY" "$LRC_TESTDATA/mock_openai.py" "$2" "$TMP/$1.port" "$TMP/$1.log" \
        "$TMP/keydir/key" 60 >"$TMP/$1.mock" 2>&1 &
    MOCK_PID=$!
    i=0
    while [ ! -s "$TMP/$1.port" ] && [ $i -lt 500 ]; do
        sleep 0.01
        i=$((i + 1))
    done
    rm -rf "$TMP/keydir"
    URL="http://127.0.0.1:$(cat "$TMP/$1.port" 2>/dev/null)"
    LOG="$TMP/$1.log"
}

# stop_mock: stop the running mock, if any, and wait for it.
stop_mock() {
    if [ -n "$MOCK_PID" ]; then
        kill "$MOCK_PID" 2>/dev/null
        wait "$MOCK_PID" 2>/dev/null
        MOCK_PID=
    fi
}
trap 'stop_mock; rm -rf "$TMP"' EXIT
