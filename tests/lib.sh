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

# metrics_without_clock FILE: the records of a metrics.jsonl, one per line
# with sorted keys, without their wall-clock fields. Uses $py.
metrics_without_clock() {
    "$py" -c 'import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    for k in ("tokens_per_s", "elapsed_s", "eta_s"):
        r.pop(k, None)
    print(json.dumps(r, sort_keys=True))' "$1"
}

# check_shuffle_docs COMMAND FLAGS: checks of --shuffle docs for lrc COMMAND
# (pretrain or distill), run with FLAGS (every setting but --data, --shuffle,
# --steps and --out, with --probe-every 5) on a JSONL file of 8 documents.
# Uses $py.
check_shuffle_docs() {
    cmd=$1
    flags=$2
    for i in 1 2 3 4 5 6 7 8; do
        printf '{"text": "the cat sat on the mat. the dog ran to the cat and the cat ran away. %s"}\n' \
            "$i"
    done >"$TMP/docs.jsonl"
    flags="$flags --data $TMP/docs.jsonl"
    # shellcheck disable=SC2086
    ok "$cmd: 10 steps with --shuffle docs" "$LRC" "$cmd" $flags --shuffle docs --steps 10 \
        --out "$TMP/docs10"
    grep -q '"shuffle":[[:space:]]*"docs"' "$TMP/docs10/run.json"
    check "$cmd: run.json records shuffle docs"

    # shellcheck disable=SC2086
    ok "$cmd: 10 steps with --shuffle on" "$LRC" "$cmd" $flags --shuffle on --steps 10 \
        --out "$TMP/on10"
    metrics_without_clock "$TMP/docs10/metrics.jsonl" >"$TMP/a" &&
        metrics_without_clock "$TMP/on10/metrics.jsonl" >"$TMP/b" && ! cmp -s "$TMP/a" "$TMP/b"
    check "$cmd: aligned windows differ from shuffled ones"

    # shellcheck disable=SC2086
    ok "$cmd: 5 steps with --shuffle docs" "$LRC" "$cmd" $flags --shuffle docs --steps 5 \
        --out "$TMP/docs5"
    cp -r "$TMP/docs5" "$TMP/damaged"
    ok "$cmd: --resume keeps the aligned windows" "$LRC" "$cmd" --resume "$TMP/docs5" \
        --steps 10 --threads 1
    metrics_without_clock "$TMP/docs10/metrics.jsonl" >"$TMP/a" &&
        metrics_without_clock "$TMP/docs5/metrics.jsonl" >"$TMP/b" && cmp -s "$TMP/a" "$TMP/b"
    check "$cmd: 5 aligned steps resumed to 10 give the 10-step run"

    sed 's/"docs"/"sideways"/' "$TMP/damaged/run.json" >"$TMP/run.json" &&
        mv "$TMP/run.json" "$TMP/damaged/run.json"
    "$LRC" "$cmd" --resume "$TMP/damaged" --steps 10 >"$TMP/out" 2>"$TMP/err"
    [ $? -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
        grep -q "run.json: shuffle 'sideways' is not on, off or docs" "$TMP/err"
    check "$cmd: an unknown shuffle in run.json is rejected"

    # shellcheck disable=SC2086
    "$LRC" "$cmd" $flags --shuffle sideways --out "$TMP/side" >"$TMP/out" 2>"$TMP/err"
    [ $? -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
        grep -q -- "--shuffle 'sideways': expected on, off or docs" "$TMP/err" && [ ! -e "$TMP/side" ]
    check "$cmd: an unknown --shuffle names the three values"
}

skip_all() {
    echo "1..0 # SKIP $1"
    exit 0
}

done_testing() {
    echo "1..$tap_n"
    [ "$tap_failed" -eq 0 ]
}
