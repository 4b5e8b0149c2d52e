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
# A copy of the sharded repository whose index names a shard outside the cache.
cp -r "$TMP/repos/sharded" "$TMP/repos/badindex"
"$py" - "$TMP/repos/badindex/model.safetensors.index.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
k = sorted(j["weight_map"])[0]
j["weight_map"][k] = "../../../../tmp/x.safetensors"
json.dump(j, open(sys.argv[1], "w"))
PY

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
    "org/badindex": repo("badindex"),
    "org/down": repo("tiny", fail={"config.json": [500] * 10}),
    "org/fragile": repo("tiny"),
    "org/tiny2": repo("tiny"),
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
grep -q '^\[1/5\] config.json: ' "$TMP/err" && ! grep -q '^\[[0-9]*\] ' "$TMP/err" &&
    [ "$(grep -c '^\[[1-5]/5\] ' "$TMP/err")" -eq 5 ]
check "every progress line is numbered [i/5], config.json first"
grep -q "^lrc: pull: org/tiny@main: 5 files ([0-9.]* KiB), 5 downloaded" "$TMP/err"
check "the summary gives the 5 files, their size and the 5 downloaded"
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
[ $? -eq 1 ] && one_line "no data for 1 s); the partial file is kept and the next pull resumes it (on a slow link raise lrc pull --timeout)"
check "a stalled transfer fails after --timeout 1, saying a new pull resumes"

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
[ -z "$(find "$cache/models--org--huge" -name '*.incomplete')" ]
check "the refused file leaves no .incomplete file"

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
[ $? -eq 1 ] && one_line "model org/nope: GET http://127.0.0.1:$closed/api/models/org/nope/revision/main failed after 2 attempts (Couldn't connect to server); check the network and HF_ENDPOINT (http://127.0.0.1:$closed), then run the command again"
check "a refused connection is retried, then fails with one line naming what to check"
HF_ENDPOINT="http://u:SECRET@127.0.0.1:$closed" "$LRC" pull --quiet --retries 0 org/nope >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "GET http://127.0.0.1:$closed/api/models/org/nope/revision/main failed (" &&
    ! grep -q "SECRET" "$TMP/err" && ! grep -q "u:" "$TMP/err"
check "a user:password in HF_ENDPOINT is not printed when the Hub is unreachable"
HF_ENDPOINT="http://u:SECRET@127.0.0.1:$HUB_PORT" "$LRC" pull --quiet org/missing >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "model org/missing not found on http://127.0.0.1:$HUB_PORT (HTTP 404)" &&
    ! grep -q "SECRET" "$TMP/err"
check "a user:password in HF_ENDPOINT is not printed in an HTTP error"
HF_ENDPOINT="ftp://u:SECRET@127.0.0.1" "$LRC" pull --quiet org/missing >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "invalid Hub endpoint 'ftp://127.0.0.1'" && ! grep -q "SECRET" "$TMP/err"
check "a user:password in an invalid HF_ENDPOINT is not printed"
HF_ENDPOINT="http://127.0.0.1:$closed" "$LRC" pull --retries 0 org/tiny >"$TMP/out" 2>"$TMP/err"
[ $? -eq 0 ] && [ "$(cat "$TMP/out")" = "$snap" ] &&
    grep -q "the Hub cannot be reached (model org/tiny: GET .* failed (Couldn.t connect to server).*); using the cached snapshot of org/tiny@main" "$TMP/err"
check "an unreachable Hub falls back to the complete cached snapshot with a notice"
n_snap=$(find "$snap" \( -type l -o -type f \) | wc -l)
grep -q "^lrc: pull: org/tiny@main: $n_snap files ([0-9.]* KiB) from the cache, nothing downloaded" "$TMP/err"
check "the fallback summary counts the $n_snap cached files, not 0"

# --- a cache folder that cannot be written ------------------------------------------------
# A read-only folder, or for root (who passes permission checks) a file where
# the cache folder should be.
mkdir -p "$TMP/rocache"
chmod 555 "$TMP/rocache"
if touch "$TMP/rocache/probe" 2>/dev/null; then
    rm -f "$TMP/rocache/probe"
    printf 'not a folder' >"$TMP/rofile"
    rocache="$TMP/rofile/cache"
    why="$TMP/rofile exists but is not a folder"
else
    rocache="$TMP/rocache"
    why="cannot create folder $TMP/rocache/models--org--tiny: Permission denied"
fi
HF_HUB_CACHE="$rocache" "$LRC" pull --quiet org/tiny >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "model org/tiny: $why.*; make the cache folder writable or set HF_HUB_CACHE"
check "a cache folder that cannot be written names the model and what to do"
chmod 755 "$TMP/rocache"

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
[ ! -e "$cache/models--org--gpt2" ]
check "the refused model leaves no file and no empty folder in the cache"

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

log_mark
"$LRC" pull --quiet org/badindex >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "model org/badindex: model.safetensors.index.json names the shard '../../../../tmp/x.safetensors', which would escape" &&
    ! grep -q "the Hub lists" "$TMP/err"
check "a shard name escaping the cache is blamed on the index, not on the Hub's file list"
! new_log | grep -q "^cdn" && [ ! -e "$cache/models--org--badindex" ]
check "the bad index stops the pull before any file is written or any weight requested"

"$LRC" pull --quiet --retries 1 org/down >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "failed after 2 attempts (HTTP 500); the Hub answered with an error each time" &&
    ! grep -q "check the connection" "$TMP/err"
check "repeated HTTP 500 says the Hub answered with errors, not to check the connection"

# A weights link whose blob was deleted: named with the pull that repairs it.
ok "pull org/fragile" "$LRC" pull --quiet org/fragile
fsnap="$cache/models--org--fragile/snapshots/$C1"
rm "$cache/models--org--fragile/blobs/$lfs"
"$LRC" info org/fragile >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "model org/fragile@main is only partly cached: model.safetensors in $fsnap is a link whose blob was deleted; to repair it, run 'lrc pull org/fragile'"
check "lrc info on a snapshot whose weights blob is gone names the id and lrc pull"
"$LRC" generate org/fragile --prompt "the cat" -n 2 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "run 'lrc pull org/fragile'"
check "lrc generate says the same"
HF_HUB_OFFLINE=1 "$LRC" info org/fragile >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "to repair it, unset HF_HUB_OFFLINE and run 'lrc pull org/fragile'"
check "offline, the repair says to unset HF_HUB_OFFLINE first"
HF_HUB_OFFLINE=1 "$LRC" pull org/fragile >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "unset HF_HUB_OFFLINE and run 'lrc pull org/fragile'"
check "an offline pull of it says to unset HF_HUB_OFFLINE"
ok "lrc pull org/fragile repairs it" "$LRC" pull org/fragile
cmp -s "$fsnap/model.safetensors" "$src/model.safetensors"
check "the repaired link reads the served weights"
ok "lrc info org/fragile after the repair" "$LRC" info org/fragile

# A damaged .incomplete: the SHA-256 fails after the resume, and the file is
# downloaded again from byte 0 in the same pull.
mkdir -p "$cache/models--org--tiny2/blobs"
head -c 5000 /dev/urandom >"$cache/models--org--tiny2/blobs/$lfs.incomplete"
log_mark
ok "pull org/tiny2 over a damaged partial file" "$LRC" pull org/tiny2
grep -q "model.safetensors: the resumed download does not match its SHA-256, so the partial file was deleted; downloading it again from the start" "$TMP/err" &&
    cmp -s "$cache/models--org--tiny2/snapshots/$C1/model.safetensors" "$src/model.safetensors"
check "a damaged partial file is replaced by a fresh download in the same pull"
new_log | grep -q "^cdn GET .* range=bytes=5000- " && new_log | grep -q "^cdn GET .* range=- "
check "the resume at byte 5000 is followed by a download from the start"

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

log_mark
ok "pull --dry-run --include 'nomatch*' --include '['" "$LRC" pull --dry-run --include 'nomatch*' --include '[' org/tiny
grep -q "^lrc: pull: --include 'nomatch\*' matches no file of org/tiny@main" "$TMP/err" &&
    grep -q "^lrc: pull: --include '\[' matches no file of org/tiny@main" "$TMP/err"
check "an --include pattern that matches nothing gets a notice"
"$LRC" pull --include '' org/tiny >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && one_line "--include '' matches no file"
check "an empty --include is a usage error"
ok "pull --dry-run --revision=v2" "$LRC" pull --dry-run --revision=v2 org/tiny
grep -q "^org/tiny@v2 (commit $C2):" "$TMP/out"
check "--revision=v2 is the same as --revision v2"
"$LRC" pull --list --dry-run >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && one_line "--list takes no model, --dry-run"
check "--list --dry-run is a usage error"

# --- offline ---------------------------------------------------------------------------------
log_mark
HF_HUB_OFFLINE=1 "$LRC" pull --quiet org/tiny >"$TMP/out" 2>"$TMP/err"
[ $? -eq 0 ] && [ "$(cat "$TMP/out")" = "$snap" ]
check "HF_HUB_OFFLINE=1 pull prints the cached snapshot"
n_snap=$(find "$snap" \( -type l -o -type f \) | wc -l)
HF_HUB_OFFLINE=1 "$LRC" pull org/tiny >"$TMP/out" 2>"$TMP/err"
grep -q "^lrc: pull: org/tiny@main: $n_snap files ([0-9.]* KiB) from the cache, nothing downloaded" "$TMP/err"
check "the offline summary counts the $n_snap cached files"
HF_HUB_OFFLINE=1 "$LRC" pull --dry-run org/tiny >"$TMP/out" 2>"$TMP/err"
[ $? -eq 0 ] && grep -q "^  model.safetensors  *[0-9.]* KiB  cached" "$TMP/out" &&
    grep -q "^$n_snap files, [0-9.]* KiB, 0 B to download (from the cache alone" "$TMP/out"
check "HF_HUB_OFFLINE=1 pull --dry-run lists the cached files"
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

# A snapshot no ref names: listed under 12 digits, in line with the others,
# and those 12 digits work as a revision.
mv "$repo/refs/v2" "$TMP/refs-v2"
ok "pull --list with an unnamed snapshot" "$LRC" pull --list
grep -q "^org/tiny  *222222222222  *222222222222 " "$TMP/out" && ! grep -q "$C2 " "$TMP/out"
check "--list shows a snapshot no ref names under 12 digits of its commit"
"$py" - "$TMP/out" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
col = lines[0].index("COMMIT")
for line in lines[1:]:
    starts = [m.start() for m in re.finditer(r"\S+", line)]
    assert starts[2] == col, (line, col)
PY
check "--list keeps the COMMIT column aligned"
ok "lrc info org/tiny@222222222222" "$LRC" info org/tiny@222222222222
grep -q "^path: *$repo/snapshots/$C2\$" "$TMP/out"
check "the 12 digits --list shows work as a revision"
mv "$TMP/refs-v2" "$repo/refs/v2"

# --- usage errors -----------------------------------------------------------------------------
"$LRC" pull --quiet ../evil >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && one_line "invalid model id '../evil'"
check "an invalid id is a usage error"
"$LRC" pull --quiet >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && one_line "missing ORG/NAME"
check "a missing id is a usage error"
log_mark
for id in 'org/tiny@ma in' 'org/tiny@@main' 'org/tiny@v2@v3' 'org/tiny@a:b'; do
    "$LRC" pull --quiet "$id" >"$TMP/out" 2>"$TMP/err"
    [ $? -eq 2 ] && one_line "invalid revision"
    check "revision of '$id' is a usage error"
done
"$LRC" pull --quiet --revision .. org/tiny >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && one_line "pull: --revision: invalid revision '..'" && ! grep -q "model id" "$TMP/err"
check "--revision .. is a usage error naming --revision, not an id the user never typed"
"$LRC" pull --quiet --revision 'a b' org/tiny >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && one_line "invalid revision 'a b'"
check "--revision 'a b' is a usage error"
"$LRC" pull --quiet "$(printf 'org/ti\nny')" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && one_line "invalid model id 'org/ti\\\\nny'"
check "an id with a newline is quoted on one line"
[ -z "$(new_log)" ]
check "no invalid id or revision reaches the Hub"
"$LRC" info org/tiny@ >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "'org/tiny@' is not a file or folder, so it was looked up as a Hub model id: invalid revision ''"
check "lrc info org/tiny@ reports the empty revision, not 'cannot open'"
ok "pull --help" "$LRC" pull --help
grep -q -- "--dry-run" "$TMP/out" && grep -q "HF_HUB_OFFLINE" "$TMP/out"
check "--help lists the options and the environment"

# --- the token stays secret ----------------------------------------------------------------
! grep -rq "$TOKEN" "$cache" "$TMP/hub.log" "$TMP"/keep.* "$TMP/out" "$TMP/err"
check "the token appears in no file under the cache, no output and no server log"

done_testing
