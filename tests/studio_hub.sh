#!/bin/sh
# The studio and the Hugging Face Hub, in a real terminal (tmux).
# 1. A cache laid out here as huggingface_hub writes it (blobs named by ETag,
#    snapshot symlinks, refs/main) is listed on Setup as ORG/NAME@REV with the
#    model's summary. A distillation started from it finishes and records the
#    snapshot folder as its teacher.
# 2. Against tests/mock_hub.py on 127.0.0.1, a typed id that the Hub lacks
#    (404) and one with an unsupported architecture show one-line errors. A
#    download held half-way by the mock shows its bytes, rate and ETA, and c
#    cancels it, leaving only the .incomplete part. A download held half-way
#    and then released completes, joins the list and can be selected. q
#    during a download quits at once.
#    While no byte arrives the pane shows the download as stalled.
# 3. With HF_HUB_OFFLINE=1, a cached id is selected and an uncached one shows
#    why nothing is downloaded.
# 4. On a 100-column screen, an uncached id argument is listed under its full
#    id with its whole message wrapped in the summary and the log line, a
#    12-digit commit prefix resolves, and a mistyped id is refused, not listed.
# Expected byte counts come from the served files' sizes.
. "$LRC_TESTDATA/lib.sh"
. "$LRC_TESTDATA/studio_lib.sh"
py=/usr/bin/python3
[ -x "$py" ] || skip_all "no /usr/bin/python3 to run the mock Hub"
src="$LRC_TESTDATA/reference/data/llama-f32"
mock=
trap 'kill_server; [ -n "$mock" ] && kill "$mock" 2>/dev/null; rm -rf "$TMP"' EXIT

export LRC_MEMORY_LIMIT=1G
unset HF_HUB_OFFLINE HF_TOKEN HF_HOME
write_text "$TMP/text.txt" 8
mkdir -p "$TMP/noruns"
settings="--data text.txt --rank 16 --steps 3 --warmup 0 --batch 2 --seq 16 --probe-every 0
    --save-every 0 --threads 1 --runs $TMP/noruns"

# focus_path: press Tab until the model path field has the focus.
focus_path() {
    for _ in 1 2 3 4 5 6 7 8 9; do
        screen | grep -Eq 'model path +\[' && return 0
        tmux -L "$sock" send-keys Tab
        sleep 0.2
    done
    return 1
}

# type_id ID: type ID into the model path field and press Enter.
type_id() {
    focus_path && tmux -L "$sock" send-keys -l "$1" && tmux -L "$sock" send-keys Enter
}

# --- 1. a cache laid out by hand -------------------------------------------------
closed=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
C=3f0c1b2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a
cache="$TMP/hf-cache"
repo="$cache/models--fix--tiny"
snap="$repo/snapshots/$C"
hub_snapshot "$repo" "$C" "$src"
# An unfinished download: config.json only, no weights.
part="$cache/models--fix--partial/snapshots/$C"
mkdir -p "$part" "$cache/models--fix--partial/blobs"
cp "$src/config.json" "$cache/models--fix--partial/blobs/cfg"
ln -s ../../blobs/cfg "$part/config.json"

export HF_HUB_CACHE="$cache" HF_ENDPOINT="http://127.0.0.1:$closed"
STUDIO_ENV="HF_HUB_CACHE=$cache HF_ENDPOINT=$HF_ENDPOINT"
# shellcheck disable=SC2086
start_studio 120 40 $settings --out "$TMP/run"
wait_for 'fix/tiny@main +\(Hub\)'
check "setup lists the cached Hub model as ORG/NAME@REV"
! grep -q 'fix/partial' "$TMP/screen"
check "a snapshot without weights is not listed"
for _ in 1 2 3 4 5 6 7 8 9 10; do
    screen | grep -Eq '> fix/tiny@main' && break
    tmux -L "$sock" send-keys Down
    sleep 0.2
done
wait_for '> fix/tiny@main +\(Hub\)' 5
check "the Hub model can be selected"
wait_for 'origin +Hugging Face Hub cache, fix/tiny@main' 5 &&
    wait_for 'hidden d +48, 2 layers, 4 heads \(2 kv\) of 12' 5
check "the Hub model has its lrc info summary"
wait_for 'student +[0-9.K]+ parameters, [0-9.]+x smaller' 5
check "the student box works out rank 16 of the Hub model"

tmux -L "$sock" send-keys Enter
wait_for 'FINISHED' 40
check "a distillation from the Hub model runs to its last step"
"$py" -c 'import json,sys; assert json.load(open(sys.argv[1]))["teacher"] == sys.argv[2]' \
    "$TMP/run/run.json" "$snap" 2>/dev/null
check "run.json names the snapshot folder as the teacher"
[ -s "$TMP/run/student/model.safetensors" ]
check "the run exports the student"
tmux -L "$sock" send-keys q
wait_file "$TMP/studio.rc" 20 && [ "$(cat "$TMP/studio.rc")" = 0 ]
check "q quits after the run with status 0"

# --- 2. downloads from the mock Hub --------------------------------------------------
C1=1111111111111111111111111111111111111111
mkdir -p "$TMP/repos/tiny" "$TMP/repos/gpt2"
cp "$src/config.json" "$src/model.safetensors" "$src/tokenizer.json" \
    "$src/tokenizer_config.json" "$TMP/repos/tiny/"
cp "$TMP/repos/tiny/"* "$TMP/repos/gpt2/"
printf '{"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 48}\n' \
    >"$TMP/repos/gpt2/config.json"
# hub_config STALL: write the mock's config, org/tiny's weights held half-way
# for STALL seconds (0: not held). The rename makes the change atomic.
hub_config() {
    "$py" - "$TMP" "$C1" "$1" <<'PY'
import json, os, sys
tmp, c1, stall = sys.argv[1], sys.argv[2], int(sys.argv[3])
tiny = dict(dir=tmp + "/repos/tiny", commit=c1)
if stall:
    tiny["stall"] = {"model.safetensors": stall}
repos = {
    "org/tiny": tiny,
    "org/held": dict(dir=tmp + "/repos/tiny", commit=c1, stall={"model.safetensors": 30}),
    "org/gpt2": dict(dir=tmp + "/repos/gpt2", commit=c1),
}
with open(tmp + "/hub.json.tmp", "w") as f:
    json.dump({"token": "unused", "repos": repos}, f)
os.replace(tmp + "/hub.json.tmp", tmp + "/hub.json")
PY
}
hub_config 4
"$py" "$LRC_TESTDATA/mock_hub.py" "$TMP/hub.json" "$TMP/ports" "$TMP/hub.log" 90 &
mock=$!
i=0
while [ ! -s "$TMP/ports" ] && [ "$i" -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ -s "$TMP/ports" ] || skip_all "the mock Hub did not start"
read -r HUB_PORT _ <"$TMP/ports"

size=$(wc -c <"$src/model.safetensors")
half_kib=$("$py" -c 'import sys; print("%.1f KiB" % (int(sys.argv[1]) // 2 / 1024))' "$size")
total_kib=$("$py" -c 'import sys; print("%.1f KiB" % (int(sys.argv[1]) / 1024))' "$size")
lfs=$("$py" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' \
    "$src/model.safetensors")

cache2="$TMP/cache2"
export HF_HUB_CACHE="$cache2" HF_ENDPOINT="http://127.0.0.1:$HUB_PORT"
STUDIO_ENV="HF_HUB_CACHE=$cache2 HF_ENDPOINT=$HF_ENDPOINT"
# shellcheck disable=SC2086
start_studio 200 40 $settings --out "$TMP/run2"
wait_for 'teachers'
check "the studio starts with an empty Hub cache"

type_id org/missing
wait_for "model org/missing not found on http://127.0.0.1:$HUB_PORT \(HTTP 404\)" 15
check "a 404 id shows one line naming the model and the endpoint"
grep -q 'download org/missing' "$TMP/screen"
check "the error is in the download pane"
tmux -L "$sock" send-keys c
sleep 0.5
! screen | grep -q 'download org/missing'
check "c closes the pane"
[ ! -e "$cache2/models--org--missing" ]
check "the 404 leaves nothing in the cache"

type_id org/gpt2
wait_for "unsupported architecture 'GPT2LMHeadModel'" 15
check "an unsupported architecture shows one line"
! grep -q 'safetensors' "$TMP/hub.log"
check "no weights were requested for it"
tmux -L "$sock" send-keys c

# org/held: the mock sends half of model.safetensors, then nothing for 30 s.
type_id org/held
wait_for "$half_kib of $total_kib +[0-9.]+ (B|KiB|MiB|GiB)/s +ETA " 15
check "the pane shows bytes, rate and ETA while the download runs ($half_kib of $total_kib)"
grep -Eq 'file [0-9]+ of [0-9]+: model.safetensors' "$TMP/screen" && grep -q ' 50%' "$TMP/screen"
check "the pane names the file, its number and the percentage"
grep -q 'c cancel download' "$TMP/screen"
check "the key line names c to cancel"
wait_for "$half_kib of $total_kib +stalled: no data for [0-9]+ s" 10
check "while no byte arrives the pane says stalled instead of an averaged rate and ETA"
tmux -L "$sock" send-keys c
wait_for 'download cancelled' 5
check "c cancels the download within seconds"
hrepo="$cache2/models--org--held"
[ ! -e "$hrepo/blobs/$lfs" ] && [ ! -e "$hrepo/snapshots/$C1/model.safetensors" ] &&
    [ ! -e "$hrepo/refs/main" ]
check "the cancelled download leaves no blob, link or ref that looks complete"
[ -f "$hrepo/blobs/$lfs.incomplete" ] && [ "$(wc -c <"$hrepo/blobs/$lfs.incomplete")" -eq $((size / 2)) ]
check "the half received stays as .incomplete for a later resume"
! screen | grep -q 'org/held@main'
check "the cancelled model is not added to the list"
tmux -L "$sock" send-keys c

# org/tiny: held half-way for 4 s; once the pane shows it, the hold is lifted,
# so the client's retry resumes and completes.
type_id org/tiny
wait_for "$half_kib of $total_kib" 15
check "the pane shows the held download half-way"
hub_config 0
wait_for '> org/tiny@main +\(Hub\)' 30
check "the finished download joins the list, selected"
wait_for 'origin +Hugging Face Hub cache, org/tiny@main' 5 &&
    wait_for 'hidden d +48, 2 layers, 4 heads \(2 kv\) of 12' 5
check "the downloaded model shows its summary"
wait_for "downloaded org/tiny@main: 4 of 4 files fetched \([0-9.]+ KiB\)" 5
check "the last log line reports the download"
tsnap="$cache2/models--org--tiny/snapshots/$C1"
cmp -s "$tsnap/model.safetensors" "$src/model.safetensors" &&
    cmp -s "$tsnap/config.json" "$src/config.json" && [ "$(cat "$cache2/models--org--tiny/refs/main")" = "$C1" ]
check "the cache holds the served files and refs/main"
grep -q "^cdn GET /lfs/$lfs/.* range=bytes=$((size / 2))- " "$TMP/hub.log"
check "the download resumed after the hold with a Range request"

# q while org/held is held again: the studio cancels the download and quits.
type_id org/held
wait_for 'model.safetensors: resuming at byte' 15
check "a second download of org/held resumes the partial file"
tmux -L "$sock" send-keys q
wait_file "$TMP/studio.rc" 5 && [ "$(cat "$TMP/studio.rc")" = 0 ]
check "q during a download quits within 5 s with status 0"
[ ! -e "$hrepo/blobs/$lfs" ] && [ -f "$hrepo/blobs/$lfs.incomplete" ]
check "quitting leaves the download as .incomplete only"

# --- 3. offline -------------------------------------------------------------------------
STUDIO_ENV="HF_HUB_CACHE=$cache2 HF_ENDPOINT=$HF_ENDPOINT HF_HUB_OFFLINE=1"
: >"$TMP/hub.log"
# shellcheck disable=SC2086
start_studio 200 40 $settings --out "$TMP/run3" "$src"
wait_for '  org/tiny@main +\(Hub\)' && wait_for '> llama-f32 +\(argument\)'
check "the downloaded model is listed from the cache on the next start"
type_id org/tiny@main
wait_for '> org/tiny@main +\(Hub\)' 10
check "a typed id that is cached is selected at once"
type_id org/never
wait_for 'HF_HUB_OFFLINE is set' 10
check "HF_HUB_OFFLINE=1 with an uncached id shows why nothing is downloaded"
[ ! -s "$TMP/hub.log" ]
check "offline, no request reaches the Hub"
tmux -L "$sock" send-keys q
wait_file "$TMP/studio.rc" 20

# --- 4. ids that do not resolve, on a narrow screen ----------------------------------------
# panel TOP BOTTOM FROM: the screen's rows TOP..BOTTOM (from 1), from column
# FROM on (from 0, in characters). Box lines are dropped and the rows joined
# by spaces, so a wrapped message reads as one line.
panel() {
    screen | "$py" -c '
import sys
top, bottom, start = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rows = sys.stdin.read().split("\n")[top - 1:bottom]
text = " ".join(r[start:].replace("\u2502", " ").replace("|", " ").strip() for r in rows)
print(" ".join(text.split()))' "$@"
}
"$LRC" studio --help >"$TMP/help" 2>&1
[ "$(grep -c -E '^  (HF_HUB_CACHE, HF_HOME|HF_ENDPOINT|HF_TOKEN|HF_HUB_OFFLINE) ' "$TMP/help")" -eq 4 ]
check "lrc studio --help lists the Hugging Face variables"
STUDIO_ENV="HF_HUB_CACHE=$cache2 HF_ENDPOINT=$HF_ENDPOINT HF_HUB_OFFLINE=1"
# shellcheck disable=SC2086
start_studio 100 34 $settings --out "$TMP/run4" org/nope "org/tiny@$(printf %.12s "$C1")"
wait_for '> org/nope +\(argument, unreadable\)'
check "an uncached id argument is listed under its full id"
wait_for "org/tiny@111111111111 +\(argument\)" 5
check "an id with a 12-digit commit prefix resolves to the cached snapshot"
# The summary box: rows 3..10, right of the list (40% of 100 columns).
panel 3 10 41 >"$TMP/panel"
grep -q "not in the Hub cache $cache2 (no models--org--nope); to download it, unset HF_HUB_OFFLINE and run 'lrc pull org/nope'" "$TMP/panel"
check "the summary shows the whole message, wrapped ($(cut -c1-60 "$TMP/panel")...)"
panel 29 33 0 >"$TMP/panel"
grep -q "unset HF_HUB_OFFLINE and run 'lrc pull org/nope'" "$TMP/panel"
check "the log line above the keys shows the whole message too"
type_id org/tiny@
wait_for "invalid revision ''" 5
check "a mistyped id says why"
! screen | grep -q 'tiny@ '
check "the mistyped id is not added to the teacher list"
# The mistyped id stays in the field for editing: erase its 9 characters.
tmux -L "$sock" send-keys BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace
type_id "$TMP/no-such-model"
wait_for "model path '$TMP/no-such-model' not found" 5
check "a local path that does not exist says so"
! screen | grep -q 'no-such-model +\('
check "the missing path is not added to the teacher list"
tmux -L "$sock" send-keys Escape
wait_file "$TMP/studio.rc" 20

done_testing
