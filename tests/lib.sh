# Shared helpers for the shell TAP tests. Source it, then call `ok`, `fails`
# and `done_testing`. $LRC is the binary under test, $LRC_SHARED the folder
# with third-party fixtures and $LRC_TESTDATA the tests/ source folder.

: "${LRC:?LRC must name the lrc binary}"
tap_n=0
tap_failed=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# ok DESCRIPTION COMMAND...: pass when the command exits 0.
ok() {
    desc=$1
    shift
    tap_n=$((tap_n + 1))
    if "$@" >"$TMP/out" 2>"$TMP/err"; then
        echo "ok $tap_n - $desc"
    else
        tap_failed=$((tap_failed + 1))
        echo "not ok $tap_n - $desc"
        sed 's/^/# /' "$TMP/err" | head -20
    fi
}

# check DESCRIPTION: pass when the previous shell condition ($?) held.
check() {
    status=$?
    tap_n=$((tap_n + 1))
    if [ "$status" -eq 0 ]; then
        echo "ok $tap_n - $1"
    else
        tap_failed=$((tap_failed + 1))
        echo "not ok $tap_n - $1"
    fi
}

skip_all() {
    echo "1..0 # SKIP $1"
    exit 0
}

done_testing() {
    echo "1..$tap_n"
    [ "$tap_failed" -eq 0 ]
}
