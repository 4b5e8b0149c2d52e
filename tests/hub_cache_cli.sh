#!/bin/sh
# Models in a Hugging Face Hub cache laid out here by hand as huggingface_hub
# writes it: models--ORG--NAME/blobs/ETAG (SHA-256 for LFS files, git blob
# SHA-1 for the others), snapshots/COMMIT/FILE -> ../../blobs/ETAG relative
# symlinks and refs/main holding the commit, under $HF_HOME/hub. lrc info,
# generate, perplexity and distill find the model by its id, and the results
# match the reference values of the same model loaded from its own folder
# (generate.txt is PyTorch's greedy continuation). HF_ENDPOINT points at a
# closed port, so any network request would fail the test.
. "$LRC_TESTDATA/lib.sh"
py=/usr/bin/python3
[ -x "$py" ] || skip_all "no /usr/bin/python3 to compute the blob names"
src="$LRC_TESTDATA/reference/data/llama-f32"
export LRC_MEMORY_LIMIT=1G
export HF_HOME="$TMP/hf-home"
# A port that was free a moment ago, so a request would fail, not reach a server.
closed=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export HF_ENDPOINT="http://127.0.0.1:$closed"
unset HF_HUB_CACHE HF_TOKEN HF_HUB_OFFLINE

C=3f0c1b2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a
repo="$HF_HOME/hub/models--fix--tiny"
snap="$repo/snapshots/$C"
hub_snapshot "$repo" "$C" "$src"
# A second model whose refs/main names a snapshot that is gone.
mkdir -p "$HF_HOME/hub/models--fix--broken/refs"
printf '%s' "$C" >"$HF_HOME/hub/models--fix--broken/refs/main"

# --- lrc info -------------------------------------------------------------------------
ok "info fix/tiny" "$LRC" info fix/tiny
grep -q "^path: *$snap\$" "$TMP/out" && grep -q "^hidden size: *48" "$TMP/out" &&
    grep -q "^layers: *2" "$TMP/out" && grep -q "^vocab size: *128" "$TMP/out"
check "info fix/tiny reads the snapshot refs/main names (d 48, 2 layers, V 128)"
ok "info fix/tiny@COMMIT" "$LRC" info --json "fix/tiny@$C"
"$py" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["hidden_size"]==48 and j["path"]==sys.argv[2], j' \
    "$TMP/out" "$snap"
check "info --json fix/tiny@COMMIT reads the same snapshot"
"$LRC" info fix/none >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "model fix/none is not in the Hub cache $HF_HOME/hub.*lrc pull fix/none" "$TMP/err"
check "info on an uncached id fails with one line naming lrc pull"
"$LRC" info fix/tiny@v3 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "no cached revision 'v3'" "$TMP/err"
check "info on an uncached revision fails with one line naming it"
"$LRC" info fix/broken >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "snapshot folder .* is missing" "$TMP/err"
check "info on a ref without its snapshot fails with one line"
"$LRC" info no/such/path >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "no/such/path" "$TMP/err" && ! grep -q "Hub" "$TMP/err"
check "a missing path that is no model id gets the loader's message"

ok "info fix/tiny@ a 12-digit commit prefix" "$LRC" info "fix/tiny@3f0c1b2a9d8e"
grep -q "^path: *$snap\$" "$TMP/out"
check "a commit prefix, as --list and the studio show it, finds the snapshot"

# --- tokenize and detokenize ---------------------------------------------------------------
"$LRC" tokenize "$src" "the cat sat" >"$TMP/want" 2>&1
ok "tokenize fix/tiny" "$LRC" tokenize fix/tiny "the cat sat"
[ -s "$TMP/want" ] && cmp -s "$TMP/out" "$TMP/want"
check "tokenize fix/tiny gives the ids of the model folder's tokenizer ($(cat "$TMP/out"))"
ids=$(cat "$TMP/want")
# shellcheck disable=SC2086
"$LRC" detokenize "$src" $ids >"$TMP/want" 2>&1
# shellcheck disable=SC2086
ok "detokenize fix/tiny" "$LRC" detokenize fix/tiny $ids
cmp -s "$TMP/out" "$TMP/want" && grep -q "the cat sat" "$TMP/out"
check "detokenize fix/tiny gives the text back"
"$LRC" tokenize fix/none "x" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "lrc pull fix/none" "$TMP/err"
check "tokenize on an uncached id fails with one line naming lrc pull"

# --- generate and perplexity -------------------------------------------------------------
ok "generate fix/tiny" "$LRC" generate fix/tiny --prompt "the cat" -n 12 --temperature 0
cmp -s "$TMP/out" "$src/generate.txt"
check "generate fix/tiny gives PyTorch's greedy continuation"
ok "generate FOLDER --tokenizer fix/tiny" "$LRC" generate "$src" --tokenizer fix/tiny \
    --prompt "the cat" -n 12 --temperature 0
cmp -s "$TMP/out" "$src/generate.txt"
check "generate --tokenizer fix/tiny gives the same continuation"

# --- ask on a Hub id ----------------------------------------------------------------------------
# The tiny model writes no final-answer line, so both runs exit 1; the chain of
# thought must still be the same text from the id as from the folder.
cot_text() {
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["stages"][0]["text"])'
}
"$LRC" ask --model "$src" --method cot --max-tokens 6 --json "the cat" 2>/dev/null | cot_text \
    >"$TMP/want"
"$LRC" ask --model fix/tiny --method cot --max-tokens 6 --json "the cat" 2>"$TMP/err" | cot_text \
    >"$TMP/out"
[ -s "$TMP/want" ] && cmp -s "$TMP/out" "$TMP/want" && ! grep -q "cannot open" "$TMP/err"
check "ask --model fix/tiny answers like the model folder"

# --- lrc pull offline and --list -------------------------------------------------------------
HF_HUB_OFFLINE=1 "$LRC" pull fix/tiny >"$TMP/out" 2>"$TMP/err"
[ $? -eq 0 ] && [ "$(cat "$TMP/out")" = "$snap" ]
check "HF_HUB_OFFLINE=1 pull fix/tiny prints the snapshot without a request"
ok "pull --list" "$LRC" pull --list
grep -q "^fix/tiny  *main  *3f0c1b2a9d8e .* $snap\$" "$TMP/out" && ! grep -q "fix/broken" "$TMP/out"
check "--list shows fix/tiny and skips the ref without a snapshot"
size=$(cat "$src/config.json" "$src/model.safetensors" "$src/tokenizer.json" \
    "$src/tokenizer_config.json" | wc -c)
"$py" -c 'import sys; print("%.1f KiB" % (int(sys.argv[1]) / 1024))' "$size" >"$TMP/want"
grep -q "$(cat "$TMP/want")" "$TMP/out"
check "--list gives the snapshot size ($(cat "$TMP/want"))"

# --- distill ----------------------------------------------------------------------------------
text="$TMP/text.txt"
for i in 1 2 3 4; do
    printf 'the cat sat on the mat. the dog ran to the cat and the cat ran away. %s\n' "$i"
done >"$text"
flags="--rank 16 --data $text --batch 2 --seq 16 --steps 3 --probe-every 0 --threads 1"
# same_steps A B: the step records of two metrics.jsonl files agree, apart
# from the wall-clock fields.
same_steps() {
    "$py" - "$1" "$2" <<'PY'
import json, sys
def steps(path):
    rows = [json.loads(l) for l in open(path)]
    for r in rows:
        for k in ("tokens_per_s", "elapsed_s", "eta_s"):
            r.pop(k, None)
    return [r for r in rows if r["type"] == "step"]
a, b = steps(sys.argv[1]), steps(sys.argv[2])
assert len(a) == 3, a
assert a == b, (a, b)
PY
}
# shellcheck disable=SC2086
ok "distill --teacher FOLDER for 3 steps" "$LRC" distill --teacher "$src" $flags --out "$TMP/run0"
# shellcheck disable=SC2086
ok "distill --teacher SNAPSHOT for 3 steps" "$LRC" distill --teacher "$snap" $flags \
    --out "$TMP/run1"
same_steps "$TMP/run0/metrics.jsonl" "$TMP/run1/metrics.jsonl" 2>"$TMP/cmp" &&
    [ -f "$TMP/run1/student/model.safetensors" ]
check "distill through the snapshot's symlinks matches the folder run and exports the student"
# shellcheck disable=SC2086
ok "distill --teacher fix/tiny for 3 steps" "$LRC" distill --teacher fix/tiny $flags \
    --out "$TMP/run2"
same_steps "$TMP/run0/metrics.jsonl" "$TMP/run2/metrics.jsonl" 2>"$TMP/cmp"
check "distill --teacher fix/tiny matches the folder run"
"$py" -c 'import json,sys; assert json.load(open(sys.argv[1]))["teacher"] == sys.argv[2]' \
    "$TMP/run2/run.json" "$snap"
check "run.json records the snapshot folder, so a resume loads the same commit"
"$py" -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["teacher_hub"] == "fix/tiny", j
assert j["teacher_commit"] == sys.argv[2], j' \
    "$TMP/run2/run.json" "$C"
check "run.json also records the id fix/tiny and the commit"

# Without --out the run is named after the id, for the id and the snapshot path.
mkdir -p "$TMP/work"
# shellcheck disable=SC2086
(cd "$TMP/work" && "$LRC" distill --teacher fix/tiny $flags >"$TMP/out" 2>"$TMP/err")
check "distill --teacher fix/tiny without --out"
# shellcheck disable=SC2086
(cd "$TMP/work" && "$LRC" distill --teacher "$snap" $flags >"$TMP/out" 2>"$TMP/err")
check "distill --teacher SNAPSHOT without --out"
ls "$TMP/work/runs" >"$TMP/runs"
[ "$(grep -c -- '-fix--tiny-r16' "$TMP/runs")" -eq 2 ] && ! grep -q "$C" "$TMP/runs"
check "the default run folders are named fix--tiny, not by the commit ($(tr '\n' ' ' <"$TMP/runs"))"

# With the snapshot gone, a resume names the id, the commit and lrc pull.
mv "$snap" "$TMP/snap.away"
"$LRC" distill --resume "$TMP/run2" --steps 4 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "the run's teacher fix/tiny at commit $C is not in the Hub cache any more ($snap is gone); run 'lrc pull fix/tiny@$C', then 'lrc distill --resume $TMP/run2' again" "$TMP/err"
check "a resume without the snapshot suggests lrc pull fix/tiny@COMMIT"
# The same commit in another cache is found there.
mkdir -p "$TMP/hf2/hub"
cp -a "$repo" "$TMP/hf2/hub/"
mv "$TMP/snap.away" "$TMP/hf2/hub/models--fix--tiny/snapshots/$C"
rm -rf "$snap"
(HF_HOME="$TMP/hf2" "$LRC" distill --resume "$TMP/run2" --steps 4 >"$TMP/out" 2>"$TMP/err")
check "a resume finds the run's commit in the current Hub cache"

done_testing
