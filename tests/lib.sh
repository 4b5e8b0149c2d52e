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

# hub_snapshot REPO COMMIT SRC: a Hugging Face cache folder REPO
# (CACHE/models--ORG--NAME) laid out by hand, holding the model files of SRC
# as blobs named by their etag (sha256 for .safetensors, else git's blob
# sha1), linked from snapshots/COMMIT/, with refs/main naming COMMIT. Uses $py.
hub_snapshot() {
    mkdir -p "$1/blobs" "$1/refs" "$1/snapshots/$2"
    for f in config.json model.safetensors tokenizer.json tokenizer_config.json; do
        etag=$("$py" -c '
import hashlib, sys
d = open(sys.argv[1], "rb").read()
if sys.argv[1].endswith(".safetensors"):
    print(hashlib.sha256(d).hexdigest())
else:
    print(hashlib.sha1(b"blob %d\0" % len(d) + d).hexdigest())' "$3/$f")
        cp "$3/$f" "$1/blobs/$etag"
        ln -s "../../blobs/$etag" "$1/snapshots/$2/$f"
    done
    printf '%s' "$2" >"$1/refs/main"
}

skip_all() {
    echo "1..0 # SKIP $1"
    exit 0
}

done_testing() {
    echo "1..$tap_n"
    [ "$tap_failed" -eq 0 ]
}
