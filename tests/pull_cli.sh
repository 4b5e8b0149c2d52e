#!/bin/sh
# lrc pull against tests/mock_hub.py, a Hub stand-in on 127.0.0.1 whose LFS
# files are redirected to a second listener under the host name localhost.
# Expected values come from the served folders themselves: the bytes (cmp),
# the blob names (SHA-256 from Python's hashlib, git SHA-1 for the others) and
# the commit in the mock's config. The request log shows what was fetched.
. "$LRC_TESTDATA/lib.sh"
py=/usr/bin/python3
[ -x "$py" ] || skip_all "no /usr/bin/python3 to run the mock Hub"
FIXTURE="$(dirname "$LRC")/tests/make_model_fixture"
[ -x "$FIXTURE" ] || skip_all "make_model_fixture not built"
src="$LRC_TESTDATA/reference/data/llama-f32"
export LRC_MEMORY_LIMIT=1G

# --- served repositories ------------------------------------------------------
C1=1111111111111111111111111111111111111111
C2=2222222222222222222222222222222222222222
mkdir -p "$TMP/repos/tiny" "$TMP/repos/gpt2"
cp "$src/config.json" "$src/model.safetensors" "$src/tokenizer.json" \
    "$src/tokenizer_config.json" "$TMP/repos/tiny/"
printf '{"bos_token_id": 0, "eos_token_id": 0}\n' >"$TMP/repos/tiny/generation_config.json"
printf 'not needed by lrc\n' >"$TMP/repos/tiny/README.md"
printf 'variant' >"$TMP/repos/tiny/consolidated.safetensors"
mkdir -p "$TMP/repos/tiny/onnx"
printf 'onnx' >"$TMP/repos/tiny/onnx/model.onnx"
cp "$TMP/repos/tiny/"*.json "$TMP/repos/tiny/model.safetensors" "$TMP/repos/gpt2/"
printf '{"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 48}\n' \
    >"$TMP/repos/gpt2/config.json"
"$FIXTURE" "$TMP/repos/sharded" shards=2 >/dev/null || echo "# make_model_fixture failed"
printf 'unused' >"$TMP/repos/sharded/model-unused.safetensors"

TOKEN=hf_test_secret_4f1d9c2b7e
"$py" - "$TMP" "$TOKEN" "$C1" "$C2" <<'PY'
import json, sys
tmp, token, c1, c2 = sys.argv[1:]
r = tmp + "/repos/"
def repo(d, **kw):
    return dict(dir=r + d, commit=c1, **kw)
repos = {
    "org/tiny": repo("tiny", refs={"main": c1, "v2": c2}),
    "org/cut": repo("tiny", cut={"model.safetensors": 100000}, cut_times=1),
    "org/cutmany": repo("tiny", cut={"model.safetensors": 70000}, cut_times=2),
    "org/corrupt": repo("tiny", corrupt=["model.safetensors"]),
    "org/gated": repo("tiny", gated=True),
    "org/gpt2": repo("gpt2"),
    "org/evil1": repo("tiny", extra_names=["../x.safetensors"]),
    "org/evil2": repo("tiny", extra_names=["/etc/x"]),
    "org/flaky": repo("tiny", fail={"config.json": [503, 429]}),
    "org/sharded": repo("sharded"),
    "org/stall": repo("tiny", stall={"model.safetensors": 5}),
    "org/stall2": repo("tiny", stall={"model.safetensors": 5}),
    "org/huge": repo("tiny", fake_size={"model.safetensors": 10**18}),
}
json.dump({"token": token, "repos": repos}, open(tmp + "/hub.json", "w"))
PY

"$py" "$LRC_TESTDATA/mock_hub.py" "$TMP/hub.json" "$TMP/ports" "$TMP/hub.log" 120 &
mock=$!
trap 'kill $mock 2>/dev/null; [ -n "$KEEP_TMP" ] || rm -rf "$TMP"' EXIT
i=0
while [ ! -s "$TMP/ports" ] && [ "$i" -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ -s "$TMP/ports" ] || skip_all "the mock Hub did not start"
read -r HUB_PORT CDN_PORT <"$TMP/ports"
: >"$TMP/hub.log"

export HF_ENDPOINT="http://127.0.0.1:$HUB_PORT"
export HF_HUB_CACHE="$TMP/cache"
export HF_TOKEN="$TOKEN"
unset HF_HUB_OFFLINE HF_HOME
cache="$TMP/cache"

# log_mark; ...; new_log: the mock's log lines since the mark.
log_mark() { log_from=$(($(wc -l <"$TMP/hub.log") + 1)); }
new_log() { tail -n "+$log_from" "$TMP/hub.log"; }
# one_line PATTERN: stderr is one line matching PATTERN.
one_line() { [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -- "$1" "$TMP/err"; }
sha256() { "$py" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }
gitsha1() { "$py" -c 'import hashlib,sys; d=open(sys.argv[1],"rb").read(); print(hashlib.sha1(b"blob %d\0" % len(d) + d).hexdigest())' "$1"; }
# keep NAME: save stdout and stderr of the last command for the token check.
keep() { cp "$TMP/out" "$TMP/keep.$1.out"; cp "$TMP/err" "$TMP/keep.$1.err"; }

# --- complete pull ---------------------------------------------------------------
log_mark
ok "pull org/tiny" "$LRC" pull org/tiny
keep tiny
repo="$cache/models--org--tiny"
snap="$repo/snapshots/$C1"
[ "$(cat "$TMP/out")" = "$snap" ]
check "pull prints the snapshot folder on stdout"
all_same=0
for f in config.json generation_config.json model.safetensors tokenizer.json tokenizer_config.json; do
    cmp -s "$snap/$f" "$TMP/repos/tiny/$f" || all_same=1
done
[ "$all_same" -eq 0 ]
check "the five files lrc needs have the served bytes"
[ ! -e "$snap/README.md" ] && [ ! -e "$snap/onnx" ] && [ ! -e "$snap/consolidated.safetensors" ] &&
    ! new_log | grep -q "consolidated"
check "README.md, onnx/ and a variant beside model.safetensors are not fetched"
lfs=$(sha256 "$src/model.safetensors")
[ "$(readlink "$snap/model.safetensors")" = "../../blobs/$lfs" ] && [ -f "$repo/blobs/$lfs" ]
check "model.safetensors links to ../../blobs/ its SHA-256"
[ "$(readlink "$snap/config.json")" = "../../blobs/$(gitsha1 "$src/config.json")" ]
check "config.json links to ../../blobs/ its git blob SHA-1"
[ "$(cat "$repo/refs/main")" = "$C1" ]
check "refs/main holds the commit"
[ -z "$(find "$cache" -name '*.incomplete')" ]
check "no .incomplete file is left"
new_log | grep -q "^cdn GET /lfs/$lfs/model.safetensors.* auth=none" &&
    ! new_log | grep "^cdn" | grep -qv "auth=none"
check "the LFS file comes from the second host, which gets no token"
! new_log | grep "^hub" | grep -qv "auth=ok"
check "every request to the endpoint carries the token"
new_log | grep -q "^hub GET /api/models/org/tiny/revision/main "
check "the model info API is asked for revision main"
first_cfg=$(new_log | grep -n "resolve/$C1/config.json" | head -1 | cut -d: -f1)
first_st=$(new_log | grep -n "safetensors" | head -1 | cut -d: -f1)
[ -n "$first_cfg" ] && [ -n "$first_st" ] && [ "$first_cfg" -lt "$first_st" ]
check "config.json is requested before the weights"

ok "lrc info on the snapshot" "$LRC" info "$snap"
grep -q "hidden size: *48" "$TMP/out"
check "lrc info on the snapshot shows hidden size 48"
ok "lrc info org/tiny" "$LRC" info org/tiny
grep -q "^path: *$snap" "$TMP/out" && grep -q "layers: *2" "$TMP/out"
check "lrc info org/tiny reads the snapshot"

log_mark
ok "a second pull of org/tiny" "$LRC" pull org/tiny
! new_log | grep -q "GET /lfs/" && ! new_log | grep -q "^hub GET .*resolve"
check "a second pull downloads nothing"
grep -q "already in the cache" "$TMP/err"
check "a second pull reports the files as cached"

log_mark
ok "pull org/tiny@v2" "$LRC" pull org/tiny@v2
[ "$(cat "$TMP/out")" = "$repo/snapshots/$C2" ] && [ "$(cat "$repo/refs/v2")" = "$C2" ] &&
    [ "$(readlink "$repo/snapshots/$C2/model.safetensors")" = "../../blobs/$lfs" ]
check "a second revision gets its own snapshot and ref, sharing the blob"
! new_log | grep -q "GET /lfs/"
check "the shared blob is not downloaded again"

# --- resume after a cut connection ---------------------------------------------------
"$LRC" pull --quiet --retries 0 org/cut >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "org/cut"
check "a cut connection with --retries 0 fails with one line naming the model"
crepo="$cache/models--org--cut"
inc="$crepo/blobs/$lfs.incomplete"
[ -f "$inc" ] && [ "$(wc -c <"$inc")" -eq 100000 ] && [ ! -e "$crepo/blobs/$lfs" ]
check "the partial file stays as .incomplete with the 100000 bytes received"
[ ! -e "$crepo/refs/main" ] && [ ! -e "$crepo/snapshots/$C1/model.safetensors" ]
check "the failed pull writes no ref and no snapshot entry for the weights"
log_mark
ok "the next pull of org/cut" "$LRC" pull org/cut
new_log | grep -q "^cdn GET /lfs/$lfs/.* range=bytes=100000- "
check "the next pull resumes with Range: bytes=100000-"
cmp -s "$crepo/snapshots/$C1/model.safetensors" "$src/model.safetensors" && [ ! -e "$inc" ]
check "the resumed file equals the served one and the .incomplete is gone"
grep -q "resuming at byte 100000" "$TMP/err"
check "the pull says where it resumed"

log_mark
ok "pull org/cutmany resumes within one pull" "$LRC" pull org/cutmany
new_log | grep -q "^cdn GET .*range=bytes=70000- " &&
    new_log | grep -q "^cdn GET .*range=bytes=140000- " &&
    cmp -s "$cache/models--org--cutmany/snapshots/$C1/model.safetensors" "$src/model.safetensors"
check "retries after two cuts resume at bytes 70000 and 140000 and verify"
grep -q "retry 2 of 4" "$TMP/err"
check "the retries are reported"

# --- a stalled transfer -----------------------------------------------------------
"$LRC" pull --quiet --retries 0 --timeout 1 org/stall >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "no data for 1 s"
check "a stalled transfer fails after --timeout 1"

# --- Ctrl-C ------------------------------------------------------------------------
# org/stall2 sends half of model.safetensors, then nothing for 5 s.
"$LRC" pull org/stall2 >"$TMP/int.out" 2>"$TMP/int.err" &
pid=$!
sinc="$cache/models--org--stall2/blobs/$lfs.incomplete"
i=0
while [ "$i" -lt 40 ] && { [ ! -f "$sinc" ] || [ "$(wc -c <"$sinc")" -lt 100000 ]; }; do
    sleep 0.1
    i=$((i + 1))
done
kill -INT "$pid"
wait "$pid"
status=$?
[ "$status" -eq 130 ] && grep -q "interrupted; partial files stay in the cache" "$TMP/int.err"
check "Ctrl-C stops the pull with status 130 ($status) and says the next pull resumes"
[ "$(wc -c <"$sinc")" -eq 109064 ] && [ ! -e "$cache/models--org--stall2/blobs/$lfs" ]
check "Ctrl-C keeps the received half as .incomplete and makes no blob"

# --- free disk space -----------------------------------------------------------------
log_mark
"$LRC" pull --quiet org/huge >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "model org/huge: file model.safetensors needs 1000000000000000000 more bytes but .*/blobs has [0-9]* free"
check "a file larger than the free disk space is rejected before its download"
! new_log | grep -q "^cdn"
check "the oversized file was not requested"

# --- token from the file HF_HOME/token --------------------------------------------------
mkdir -p "$TMP/hf-home"
printf '%s\n' "$TOKEN" >"$TMP/hf-home/token"
log_mark
(unset HF_TOKEN && HF_HOME="$TMP/hf-home" "$LRC" pull --quiet org/gated >"$TMP/out" 2>"$TMP/err")
check "with HF_TOKEN unset the token comes from \$HF_HOME/token"
! new_log | grep "^hub" | grep -qv "auth=ok"
check "the token from the file is sent to the endpoint"

# --- no server --------------------------------------------------------------------
closed=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HF_ENDPOINT="http://127.0.0.1:$closed" "$LRC" pull --quiet --retries 1 org/nope >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "model org/nope: GET http://127.0.0.1:$closed/api/models/org/nope/revision/main failed after 2 attempts"
check "a refused connection is retried, then fails with one line"
HF_ENDPOINT="http://127.0.0.1:$closed" "$LRC" pull --retries 0 org/tiny >"$TMP/out" 2>"$TMP/err"
[ $? -eq 0 ] && [ "$(cat "$TMP/out")" = "$snap" ] &&
    grep -q "failed (Couldn't connect to server); using the cached snapshot of org/tiny@main" "$TMP/err"
check "an unreachable Hub falls back to the complete cached snapshot with a notice"

# --- wrong SHA-256 ------------------------------------------------------------------
"$LRC" pull --quiet org/corrupt >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "org/corrupt: file model.safetensors has SHA-256 .* but the Hub names $lfs"
check "bytes that do not match the SHA-256 are rejected with one line"
keep corrupt
xrepo="$cache/models--org--corrupt"
[ ! -e "$xrepo/blobs/$lfs" ] && [ ! -e "$xrepo/blobs/$lfs.incomplete" ] &&
    [ ! -e "$xrepo/snapshots/$C1/model.safetensors" ] && [ ! -e "$xrepo/refs/main" ]
check "nothing of the corrupt file is left: no blob, no .incomplete, no link, no ref"

# --- 401, 403, 404 ------------------------------------------------------------------------
HF_TOKEN='' "$LRC" pull --quiet org/gated >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "model org/gated is gated or private (HTTP 401" && grep -q "set HF_TOKEN" "$TMP/err"
check "a gated model without a token gets one line naming it and HF_TOKEN"
HF_TOKEN=hf_wrong "$LRC" pull --quiet org/gated >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "model org/gated is gated or private and the token has no access (HTTP 403"
check "a gated model with a token lacking access gets one line naming it"
ok "a gated model with the right token" "$LRC" pull org/gated
"$LRC" pull --quiet org/missing >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "model org/missing not found on http://127.0.0.1:$HUB_PORT (HTTP 404)"
check "a missing model gets one line naming it and the endpoint"
"$LRC" pull --quiet org/tiny@nope >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "model org/tiny has no revision 'nope'"
check "a missing revision gets one line naming it"
[ ! -e "$cache/models--org--missing" ]
check "a missing model leaves nothing in the cache"

# --- unsupported architecture -----------------------------------------------------------
log_mark
"$LRC" pull --quiet org/gpt2 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "org/gpt2 cannot be used by lrc, so no weights were downloaded: unsupported architecture 'GPT2LMHeadModel'"
check "an unsupported architecture is refused with one line"
! new_log | grep -q "safetensors"
check "no .safetensors file was requested for the unsupported model"
[ -z "$(find "$cache/models--org--gpt2" -type f 2>/dev/null)" ] && [ ! -e "$cache/models--org--gpt2/refs" ]
check "the refused model leaves no file in the cache"

# --- unsafe file names -------------------------------------------------------------------
for repo_id in org/evil1 org/evil2; do
    log_mark
    "$LRC" pull --quiet "$repo_id" >"$TMP/out" 2>"$TMP/err"
    [ $? -eq 1 ] && one_line "model $repo_id: the Hub lists the file name '.*', which would escape"
    check "$repo_id: an unsafe sibling name is rejected with one line"
    [ ! -e "$cache/models--org--${repo_id#org/}" ] && ! new_log | grep -q resolve
    check "$repo_id: nothing was requested or written"
done
[ ! -e "$cache/x.safetensors" ] && [ ! -e "$TMP/x.safetensors" ]
check "no file was written outside the cache"

# --- retries on 503 and 429 --------------------------------------------------------------
log_mark
ok "pull org/flaky through a 503 and a 429" "$LRC" pull org/flaky
[ "$(new_log | grep -c "resolve/$C1/config.json")" -eq 4 ]
check "config.json was asked for 4 times (503, 429, HEAD, GET)"
grep -q "HTTP 503; retry 1 of 4" "$TMP/err" && grep -q "HTTP 429; retry 2 of 4" "$TMP/err"
check "each retry is reported with its status"

# --- sharded weights ---------------------------------------------------------------------
log_mark
ok "pull org/sharded" "$LRC" pull org/sharded
ssnap="$cache/models--org--sharded/snapshots/$C1"
sdir="$TMP/repos/sharded"
cmp -s "$ssnap/model-00001-of-00002.safetensors" "$sdir/model-00001-of-00002.safetensors" &&
    cmp -s "$ssnap/model-00002-of-00002.safetensors" "$sdir/model-00002-of-00002.safetensors" &&
    [ -f "$ssnap/model.safetensors.index.json" ]
check "the index and both shards it names are fetched"
[ ! -e "$ssnap/model-unused.safetensors" ] && ! new_log | grep -q "model-unused"
check "a .safetensors file the index does not name is not fetched"
ok "lrc info org/sharded" "$LRC" info org/sharded

# --- dry run and --include ----------------------------------------------------------------
ok "pull --dry-run --include 'README*'" "$LRC" pull --dry-run --include 'README*' "org/flaky@$C1"
grep -q "model.safetensors .*cached" "$TMP/out" && grep -q "README.md .*to download" "$TMP/out"
check "--dry-run lists the plan with --include matches"
[ ! -e "$cache/models--org--flaky/snapshots/$C1/README.md" ]
check "--dry-run writes nothing"
ok "pull --include 'onnx/*'" "$LRC" pull --include 'onnx/*' org/tiny
cmp -s "$snap/onnx/model.onnx" "$TMP/repos/tiny/onnx/model.onnx" &&
    [ "$(readlink "$snap/onnx/model.onnx")" = "../../../blobs/$(gitsha1 "$TMP/repos/tiny/onnx/model.onnx")" ]
check "--include fetches a nested file, linked three levels up"

# --- offline ---------------------------------------------------------------------------------
log_mark
HF_HUB_OFFLINE=1 "$LRC" pull --quiet org/tiny >"$TMP/out" 2>"$TMP/err"
[ $? -eq 0 ] && [ "$(cat "$TMP/out")" = "$snap" ]
check "HF_HUB_OFFLINE=1 pull prints the cached snapshot"
HF_HUB_OFFLINE=1 "$LRC" info org/tiny >"$TMP/out" 2>"$TMP/err"
check "HF_HUB_OFFLINE=1 lrc info org/tiny works"
HF_HUB_OFFLINE=1 "$LRC" pull --quiet org/never >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "HF_HUB_OFFLINE is set.*org/never is not in the Hub cache"
check "HF_HUB_OFFLINE=1 with an uncached model fails with one line"
HF_HUB_OFFLINE=1 "$LRC" pull --quiet org/cut@v9 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "no cached revision 'v9'"
check "HF_HUB_OFFLINE=1 with an uncached revision fails with one line"
[ -z "$(new_log)" ]
check "offline runs make no request"

# --- list -----------------------------------------------------------------------------------
ok "pull --list" "$LRC" pull --list
grep -q "^org/tiny  *main  *111111111111 .* $snap" "$TMP/out" &&
    grep -q "^org/tiny  *v2 " "$TMP/out" && grep -q "^org/sharded  *main " "$TMP/out"
check "--list shows each cached model and revision with its snapshot"

# --- usage errors -----------------------------------------------------------------------------
"$LRC" pull --quiet ../evil >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && one_line "invalid model id '../evil'"
check "an invalid id is a usage error"
"$LRC" pull --quiet >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && one_line "missing ORG/NAME"
check "a missing id is a usage error"
ok "pull --help" "$LRC" pull --help
grep -q -- "--dry-run" "$TMP/out" && grep -q "HF_HUB_OFFLINE" "$TMP/out"
check "--help lists the options and the environment"

# --- the token stays secret ----------------------------------------------------------------
! grep -rq "$TOKEN" "$cache" "$TMP/hub.log" "$TMP"/keep.* "$TMP/out" "$TMP/err"
check "the token appears in no file under the cache, no output and no server log"

done_testing
