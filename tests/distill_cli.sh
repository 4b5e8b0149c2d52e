#!/bin/sh
# lrc distill on tiny teachers.
# - Golden: the loss parts of metrics.jsonl over four steps equal those of
#   cli_expected.json within 1e-4 relative. tests/reference/gen_lrc.py
#   computed them with PyTorch's LRC loss and torch.optim.AdamW.
# - Resume: twenty steps straight and ten plus ten with --resume write the
#   same metrics.jsonl, apart from the wall-clock fields. A constant run
#   resumed with --schedule wsd takes the wsd run's steps.
# - Signals: SIGINT mid-run saves a checkpoint and exits 0, and --resume
#   continues the run.
# - NaN: a learning rate of 1e30 overflows the weights at step 2, so the run
#   exits 3 naming the step and the last good checkpoint.
# - Bad input gets one line and leaves nothing on disk.
# - Export: student/ loads in lrc generate and lrc perplexity.
. "$LRC_TESTDATA/lib.sh"
py=/usr/bin/python3
[ -x "$py" ] || skip_all "no /usr/bin/python3 to read metrics.jsonl"
lrc_data="$LRC_TESTDATA/reference/data/lrc"
teacher="$lrc_data/teacher"
tok_teacher="$LRC_TESTDATA/reference/data/llama-f32"

# The settings of gen_lrc.py (B, T, rank, loss weights, AdamW, no clipping,
# constant rate), on its data file whose every shuffle-off batch is the one
# cli_expected.json was computed on.
golden_flags="--teacher $teacher --rank 12 --data $lrc_data/cli_data.u32 --batch 2 --seq 8
    --lr 0.01 --warmup 0 --schedule constant --weight-decay 0.1 --clip 0 --kl-temp 2
    --ce-weight 1 --kl-weight 0.5 --clone-weight 0.25 --shuffle off
    --init $lrc_data/init.safetensors --probe-every 0 --threads 1"

# --- golden ------------------------------------------------------------------
# shellcheck disable=SC2086
ok "distill runs the golden settings for 4 steps" \
    "$LRC" distill $golden_flags --steps 4 --out "$TMP/golden" --no-tui
"$py" - "$TMP/golden/metrics.jsonl" "$lrc_data/cli_expected.json" >"$TMP/cmp" 2>&1 <<'EOF'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
exp = json.load(open(sys.argv[2]))
want = [exp["loss_before"]] + exp["loss_after_steps"]
assert [g["step"] for g in got] == [1, 2, 3, 4], [g["step"] for g in got]
worst = 0.0
for g, w in zip(got, want):
    pairs = [(g["loss"], w["total"]), (g["ce"], w["ce"]), (g["kl"], w["kl"]),
             (g["clone"], w["clone"])]
    pairs += [(g["clone_sites"][s], w["clone_site"][s]) for s in w["clone_site"]]
    for a, b in pairs:
        worst = max(worst, abs(a - b) / abs(b))
print("worst relative difference %.3g" % worst)
assert worst < 1e-4
EOF
check "golden: every loss part of steps 1-4 matches PyTorch within 1e-4 relative"
sed 's/^/# /' "$TMP/cmp"
[ -s "$TMP/golden/checkpoints/step-000004.safetensors" ] &&
    [ -s "$TMP/golden/student/model.safetensors" ] && [ -s "$TMP/golden/run.json" ]
check "golden: the run folder holds run.json, the final checkpoint and student/"
"$py" -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["rank"]==12 and s["kl_temp"]==2 and s["shuffle"]=="off" and s["lr"]==0.01, s' \
    "$TMP/golden/run.json"
check "golden: run.json records the settings"

# --- resume ------------------------------------------------------------------
# Training text for the teacher with a tokenizer (vocabulary of 128 ids).
text="$TMP/text.txt"
for i in 1 2 3 4 5 6 7 8; do
    printf 'the cat sat on the mat. the dog ran to the cat and the cat ran away. %s\n' "$i"
done >"$text"
run_flags="--teacher $tok_teacher --rank 16 --data $text --batch 2 --seq 16 --lr 0.01
    --warmup 2 --schedule constant --probe-every 5 --save-every 4 --threads 1"
# shellcheck disable=SC2086
ok "20 steps straight" "$LRC" distill $run_flags --steps 20 --out "$TMP/straight"
# shellcheck disable=SC2086
ok "10 steps" "$LRC" distill $run_flags --steps 10 --out "$TMP/split"
ok "--resume for 10 more" "$LRC" distill --resume "$TMP/split" --steps 20 --threads 1
grep -q "from step 10 of 20" "$TMP/err"
check "--resume continues from step 10"
metrics_without_clock "$TMP/straight/metrics.jsonl" >"$TMP/a" &&
    metrics_without_clock "$TMP/split/metrics.jsonl" >"$TMP/b" && cmp -s "$TMP/a" "$TMP/b" &&
    [ "$(grep -c '"step"' "$TMP/a")" -eq 25 ]
check "resume: 10 + 10 steps give the 20-step metrics (20 steps, 5 probes)"
grep -q '"mi": \[' "$TMP/a" && grep -q '"step": 0, "top1"' "$TMP/a"
check "resume: the probe at step 0 and per-layer MI are recorded"
"$py" - "$TMP/straight/metrics.jsonl" <<'EOF'
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
probes = [r for r in rows if r["type"] == "probe"]
steps = [r for r in rows if r["type"] == "step"]
assert [p["step"] for p in probes] == [0, 5, 10, 15, 20]
for p in probes:
    assert len(p["mi"]) == 2 and all(m >= 0 and math.isfinite(m) for m in p["mi"])
    assert 0 <= p["top1"] <= 1, p
    assert p["ppl_teacher"] > 1, p
    assert p["ppl_student"] > 1, p
assert steps[0]["lr"] == 0.005, steps[0]
assert steps[1]["lr"] == 0.01, steps[1]
assert steps[-1]["lr"] == 0.01, steps[-1]
assert steps[-1]["loss"] < steps[0]["loss"]
assert all(s["grad_norm"] > 0 for s in steps)
EOF
check "probe records are in range, lr follows the warmup, the loss falls"
fails_resume_change() {
    "$LRC" distill --resume "$TMP/split" --rank 8 >"$TMP/out" 2>"$TMP/err"
    [ $? -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -- "--rank" "$TMP/err"
}
fails_resume_change
check "--resume refuses a changed --rank (settings come from run.json)"

# --- windows aligned to documents -----------------------------------------------
check_shuffle_docs distill "--teacher $tok_teacher --rank 16 --batch 2 --seq 16 --lr 0.01
    --warmup 2 --schedule constant --probe-every 5 --save-every 4 --threads 1"
"$LRC" distill --teacher "$teacher" --rank 12 --data "$lrc_data/cli_data.u32" --seq 8 \
    --probe-every 0 --shuffle docs --steps 2 --out "$TMP/u32docs" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "no document starts" "$TMP/err" &&
    [ ! -e "$TMP/u32docs" ]
check "--shuffle docs on .u32 ids is a one-line error"

# --- SIGINT ------------------------------------------------------------------
# shellcheck disable=SC2086
"$LRC" distill $run_flags --steps 1000000 --save-every 0 --probe-every 0 --out "$TMP/int" \
    >"$TMP/int.out" 2>"$TMP/int.err" &
pid=$!
i=0
while [ "$i" -lt 100 ] && ! grep -q '"step":3,' "$TMP/int/metrics.jsonl" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
kill -INT "$pid"
wait "$pid"
status=$?
[ "$status" -eq 0 ] && [ -s "$TMP/int/checkpoints/latest" ]
check "SIGINT saves a checkpoint and exits 0 (status $status)"
"$py" - "$TMP/int.err" <<'EOF'
import re, sys
norms = re.findall(r"grad-norm (\S+)", open(sys.argv[1]).read())
assert norms, "no progress lines"
for v in norms:
    digits = v.split("e")[0].replace(".", "").lstrip("0")
    assert "." in v and len(digits) == 3, v
EOF
check "progress lines print the gradient norm with 3 significant digits"
saved=$(sed -n 's/^step-0*\([0-9][0-9]*\)\.safetensors$/\1/p' "$TMP/int/checkpoints/latest")
ok "--resume after SIGINT runs 2 more steps" \
    "$LRC" distill --resume "$TMP/int" --steps $((saved + 2)) --threads 1
[ "$(tail -n 1 "$TMP/int/metrics.jsonl" | sed 's/.*"step":\([0-9]*\),.*/\1/')" = $((saved + 2)) ]
check "the resumed run ends at step $((saved + 2))"

# shellcheck disable=SC2086
"$LRC" distill $run_flags --steps 1000000 --save-every 0 --probe-every 0 --out "$TMP/term" \
    >"$TMP/term.out" 2>"$TMP/term.err" &
pid=$!
i=0
while [ "$i" -lt 100 ] && ! grep -q '"step":3,' "$TMP/term/metrics.jsonl" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
# While it runs, a second process may not write the same run folder.
"$LRC" distill --resume "$TMP/term" --steps 1 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] &&
    grep -q "run folder $TMP/term is in use by another lrc process (pid $pid)" "$TMP/err"
check "--resume of a run another process is writing exits 1 naming its pid"
kill -TERM "$pid"
wait "$pid"
status=$?
[ "$status" -eq 0 ] && [ -s "$TMP/term/checkpoints/latest" ] && grep -q "stopped at step" "$TMP/term.err"
check "SIGTERM saves a checkpoint and exits 0 (status $status)"

# --- non-finite loss -----------------------------------------------------------
# shellcheck disable=SC2086
"$LRC" distill $golden_flags --steps 10 --lr 1e30 --save-every 1 --out "$TMP/nan" \
    >"$TMP/out" 2>"$TMP/err"
[ $? -eq 3 ] && grep -q "step 2: the .* is NaN" "$TMP/err" &&
    grep -q "last good checkpoint .*step-000001.safetensors" "$TMP/err"
check "a diverging --lr 1e30 exits 3 naming step 2 and the last good checkpoint"
# Before the first checkpoint there is nothing to resume: the run folder goes,
# so the advice "restart" works with the same --out.
# shellcheck disable=SC2086
"$LRC" distill $golden_flags --steps 10 --lr 1e30 --save-every 0 --out "$TMP/nan0" \
    >"$TMP/out" 2>"$TMP/err"
[ $? -eq 3 ] && grep -q "before any checkpoint was saved.*removed what the run wrote in" \
    "$TMP/err" && [ ! -e "$TMP/nan0" ]
check "a NaN before the first checkpoint removes the run folder"
# shellcheck disable=SC2086
ok "... and the same --out then takes a new run" \
    "$LRC" distill $golden_flags --steps 2 --out "$TMP/nan0"

# --- bad input ---------------------------------------------------------------
# bad DESCRIPTION PATTERN ARGS...: fails with one line matching PATTERN and
# leaves neither --out nor ./runs behind.
mkdir "$TMP/cwd"
bad() {
    desc=$1 pattern=$2
    shift 2
    (cd "$TMP/cwd" && "$LRC" distill "$@" --out "$TMP/bad" >"$TMP/out" 2>"$TMP/err")
    status=$?
    [ "$status" -ne 0 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -- "$pattern" "$TMP/err" &&
        [ ! -e "$TMP/bad" ] && [ -z "$(ls -A "$TMP/cwd")" ]
    check "$desc"
}
base="--teacher $teacher --batch 2 --seq 8 --probe-every 0"
printf '\001\000\000\000\002\000\000\000\003\000\000\000' >"$TMP/short.u32"
# shellcheck disable=SC2086
bad "data shorter than one window" "short.u32" $base --rank 12 --data "$TMP/short.u32"
# shellcheck disable=SC2086
bad "rank 0" "--rank '0'" $base --rank 0 --data "$lrc_data/cli_data.u32"
# shellcheck disable=SC2086
bad "data too short for the probe's held-out windows names --batch and --probe-every 0" \
    "smaller --batch or --probe-every 0" --teacher "$teacher" --seq 8 --batch 100000 --rank 12 \
    --data "$lrc_data/cli_data.u32"
# shellcheck disable=SC2086
bad "rank above the teacher's hidden size" "--rank 33" $base --rank 33 \
    --data "$lrc_data/cli_data.u32"
"$py" - "$lrc_data/init.safetensors" "$TMP" <<'EOF'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
head, blob = json.loads(raw[8:8 + n]), raw[8 + n:]
def write(path, header):
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    open(path, "wb").write(struct.pack("<Q", len(text)) + text + blob)
missing = dict(head)
del missing["model.layers.1.mlp.zoom_up.weight"]
write(sys.argv[2] + "/missing.safetensors", missing)
shaped = json.loads(json.dumps(head))
t = shaped["model.layers.0.self_attn.zoom_q.weight"]
t["shape"] = [t["shape"][1], t["shape"][0]]
write(sys.argv[2] + "/shaped.safetensors", shaped)
extra = json.loads(json.dumps(head))
extra["extra.weight"] = {"dtype": "F32", "shape": [1], "data_offsets": [len(blob), len(blob) + 4]}
blob += b"\0\0\0\0"
write(sys.argv[2] + "/extra.safetensors", extra)
# A NaN and an Inf as the third value of zoom_k (F32).
t = head["model.layers.1.self_attn.zoom_k.weight"]
assert t["dtype"] == "F32"
at = 8 + n + t["data_offsets"][0] + 8
for name, value in (("nan", float("nan")), ("inf", float("inf"))):
    open(sys.argv[2] + "/" + name + ".safetensors", "wb").write(
        raw[:at] + struct.pack("<f", value) + raw[at + 4:])
EOF
# shellcheck disable=SC2086
bad "--init without a tensor" "zoom_up" $base --rank 12 --data "$lrc_data/cli_data.u32" \
    --init "$TMP/missing.safetensors"
# shellcheck disable=SC2086
bad "--init with a mis-shaped tensor" "zoom_q" $base --rank 12 \
    --data "$lrc_data/cli_data.u32" --init "$TMP/shaped.safetensors"
# shellcheck disable=SC2086
bad "--init with an extra tensor names it" "extra.safetensors: tensor extra.weight is not" \
    $base --rank 12 --data "$lrc_data/cli_data.u32" --init "$TMP/extra.safetensors"
for v in nan inf; do
    # shellcheck disable=SC2086
    bad "--init with $v is rejected before anything is written" \
        "$v.safetensors: tensor model.layers.1.self_attn.zoom_k.weight contains .* at element 2" \
        $base --rank 12 --data "$lrc_data/cli_data.u32" --init "$TMP/$v.safetensors"
done
: >"$TMP/plain"
(cd "$TMP/cwd" && "$LRC" distill $base --rank 12 --data "$lrc_data/cli_data.u32" \
    --out "$TMP/plain/run" >"$TMP/out" 2>"$TMP/err")
[ $? -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "plain" "$TMP/err" &&
    [ -f "$TMP/plain" ] && [ ! -s "$TMP/plain" ] && [ -z "$(ls -A "$TMP/cwd")" ]
check "unwritable --out (under a regular file)"
"$LRC" distill --teacher "$teacher" --rank 12 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -- "--data" "$TMP/err"
check "a missing --data is a usage error"

"$LRC" distill --teacher="$teacher" --rank=12 --data="$lrc_data/cli_data.u32" --steps=1 \
    --batch=2 --seq=8 --probe-every=0 --out="$TMP/equals" >"$TMP/out" 2>"$TMP/err" &&
    [ -d "$TMP/equals/student" ]
check "--option=value works like --option value"
"$LRC" distill --teacher="$teacher" --rank= --data "$lrc_data/cli_data.u32" >"$TMP/out" \
    2>"$TMP/err"
[ $? -eq 2 ] && grep -q -- "--rank" "$TMP/err"
check "an empty --rank= is a usage error"
"$LRC" distill --teacher "$teacher" --rank 12 --data "$lrc_data/cli_data.u32" \
    --init "$lrc_data/init.safetensors" --init-method svd --out "$TMP/both" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q -- "--init and --init-method cannot be given together" "$TMP/err" &&
    [ ! -e "$TMP/both" ]
check "--init with --init-method is a usage error naming both"
"$LRC" distill --teacher "$teacher" --rank 12 --data "$lrc_data/cli_data.u32" --out "" \
    >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q -- "--out is empty" "$TMP/err"
check "an empty --out is a usage error"
"$LRC" distill --teacher "$teacher" --rank 12 --data "$lrc_data/cli_data.u32" --schedule foo \
    --out "$TMP/sched" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] &&
    grep -q -- "--schedule: 'foo' is not one of cosine, linear, constant, wsd" "$TMP/err"
check "an unknown --schedule lists the four names"
# shellcheck disable=SC2086
ok "wsd: 10 steps, the last 4 decaying" "$LRC" distill $run_flags --schedule wsd --decay-steps 4 \
    --steps 10 --out "$TMP/wsd"
"$py" - "$TMP/wsd" >"$TMP/cmp" 2>&1 <<'PY'
import json, sys
run = sys.argv[1]
settings = json.load(open(run + "/run.json"))
assert settings["schedule"] == "wsd", settings
assert settings["decay_steps"] == 4, settings
lrs = [json.loads(l)["lr"] for l in open(run + "/metrics.jsonl") if '"type":"step"' in l]
expect = [0.005] + [0.01] * 5 + [0.0075, 0.005, 0.0025, 0.0]
assert len(lrs) == 10, lrs
assert all(abs(a - b) < 1e-12 for a, b in zip(lrs, expect)), lrs
PY
check "wsd records and applies decay"
# shellcheck disable=SC2086
ok "6 constant steps" "$LRC" distill $run_flags --steps 6 --out "$TMP/swd"
ok "--resume switches the run to wsd" "$LRC" distill --resume "$TMP/swd" --steps 10 \
    --schedule wsd --decay-steps 4
"$py" - "$TMP/wsd" "$TMP/swd" <<'PY'
import json, sys
def steps(run):
    return [json.loads(l) for l in open(run + "/metrics.jsonl") if '"type":"step"' in l]
a, b = steps(sys.argv[1]), steps(sys.argv[2])
settings = json.load(open(sys.argv[2] + "/run.json"))
assert settings["schedule"] == "wsd", settings
assert settings["decay_steps"] == 4, settings
assert len(a) == len(b) == 10
for x, y in zip(a, b):
    assert (x["loss"], x["lr"], x["grad_norm"]) == (y["loss"], y["lr"], y["grad_norm"]), (x, y)
PY
check "6 constant steps resumed as wsd give the 10 wsd steps"
"$LRC" distill --teacher "$teacher" --rank 12 --data "$lrc_data/cli_data.u32" --decay-steps 3 \
    --out "$TMP/sched" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q -- "--decay-steps applies only to --schedule wsd" "$TMP/err"
check "--decay-steps needs wsd"
"$LRC" pretrain --resume "$TMP/golden" --steps 8 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] &&
    grep -q "$TMP/golden was made by lrc distill; use lrc distill --resume $TMP/golden" "$TMP/err"
check "lrc pretrain --resume on a distill run names lrc distill"

# --- export --------------------------------------------------------------------
ok "the exported student runs in lrc generate" \
    "$LRC" generate "$TMP/straight/student" --prompt "the cat" -n 6 --temperature 0
ok "the exported student runs in lrc perplexity" \
    "$LRC" perplexity "$TMP/straight/student" --text "$text" --ctx 16
grep -q '^perplexity [0-9]' "$TMP/out"
check "lrc perplexity prints the student's perplexity"
"$py" -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["hidden_size"]==16, c' \
    "$TMP/straight/student/config.json" && [ -s "$TMP/straight/student/tokenizer.json" ]
check "student/ has hidden_size 16 and the teacher's tokenizer"

# A failed export leaves no half-made student/ and says that --resume retries it.
mkdir "$TMP/badtok"
cp "$teacher"/* "$TMP/badtok/"
mkdir "$TMP/badtok/tokenizer_config.json"
"$LRC" distill --teacher "$TMP/badtok" --rank 12 --data "$lrc_data/cli_data.u32" --steps 2 \
    --batch 2 --seq 8 --probe-every 0 --out "$TMP/badexp" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "retries the export" "$TMP/err" &&
    grep -q "lrc distill --resume $TMP/badexp" "$TMP/err" && [ ! -e "$TMP/badexp/student" ] &&
    [ ! -e "$TMP/badexp/student.tmp" ]
check "a failed export leaves no student/ and names --resume"
rmdir "$TMP/badtok/tokenizer_config.json"
ok "--resume then retries the export" "$LRC" distill --resume "$TMP/badexp"
[ -s "$TMP/badexp/student/model.safetensors" ] && [ ! -e "$TMP/badexp/student.tmp" ]
check "the retried export wrote student/"

# A resume whose data file now holds other tokens (same count) is rejected.
cp "$lrc_data/cli_data.u32" "$TMP/swap.u32"
"$LRC" distill --teacher "$teacher" --rank 12 --data "$TMP/swap.u32" --steps 2 --batch 2 \
    --seq 8 --probe-every 0 --out "$TMP/swap" >"$TMP/out" 2>"$TMP/err"
"$py" -c 'import sys; b=open(sys.argv[1],"rb").read(); open(sys.argv[1],"wb").write(b[4:]+b[:4])' \
    "$TMP/swap.u32"
"$LRC" distill --resume "$TMP/swap" --steps 4 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "swap.u32 now gives other tokens than the run was trained on" "$TMP/err"
check "--resume rejects a data file whose tokens changed"

# A damaged latest checkpoint: the message points at the older ones.
"$LRC" distill --teacher "$teacher" --rank 12 --data "$lrc_data/cli_data.u32" --steps 3 \
    --save-every 1 --batch 2 --seq 8 --probe-every 0 --out "$TMP/cut" >"$TMP/out" 2>"$TMP/err"
"$py" -c 'import sys; b=open(sys.argv[1],"rb").read(); open(sys.argv[1],"wb").write(b[:1000])' \
    "$TMP/cut/checkpoints/step-000003.safetensors"
"$LRC" distill --resume "$TMP/cut" --steps 5 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "an older step-\*.safetensors in $TMP/cut/checkpoints may still load" \
    "$TMP/err"
check "--resume on a damaged latest checkpoint points at the older ones"

# --- llama2.c teacher -----------------------------------------------------------
# A llama2.c model.bin teacher: the student gets the tokenizer.bin beside it (a
# 261-piece one this test writes) and a note naming it; lrc generate finds it.
mkdir "$TMP/l2c"
cp "$LRC_TESTDATA/reference/data/llama2c/model.bin" "$TMP/l2c/model.bin"
"$py" - "$TMP" <<'EOF'
import random, struct, sys
tmp = sys.argv[1]
pieces = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [b"<0x%02X>" % i for i in range(256)]
pieces += [b" the", b" cat"]
with open(tmp + "/l2c/tokenizer.bin", "wb") as f:
    f.write(struct.pack("<i", 8))
    for i, p in enumerate(pieces):
        f.write(struct.pack("<fi", -float(i), len(p)) + p)
random.seed(1)
ids = [random.randrange(128) for _ in range(400)]
open(tmp + "/l2c_ids.u32", "wb").write(struct.pack("<400I", *ids))
EOF
l2c_flags="--rank 8 --data $TMP/l2c_ids.u32 --steps 2 --seq 8 --batch 1 --probe-every 0"
# shellcheck disable=SC2086
ok "llama2.c teacher: the run trains and exports" \
    "$LRC" distill --teacher "$TMP/l2c/model.bin" $l2c_flags --out "$TMP/l2c_run"
cmp -s "$TMP/l2c/tokenizer.bin" "$TMP/l2c_run/student/tokenizer.bin" &&
    grep -q "tokenizer.bin is the llama2.c tokenizer" "$TMP/l2c_run/student/tokenizer_source.txt"
check "llama2.c teacher: student/ carries tokenizer.bin and says so"
"$LRC" generate "$TMP/l2c_run/student" --prompt "the" -n 2 >"$TMP/out" 2>"$TMP/err"
grep -q "tokenizer beside the model has 261 ids" "$TMP/err"
check "llama2.c teacher: lrc generate finds tokenizer.bin in student/"
rm "$TMP/l2c/tokenizer.bin"
# shellcheck disable=SC2086
ok "llama2.c teacher without tokenizer.bin: the run trains and exports" \
    "$LRC" distill --teacher "$TMP/l2c/model.bin" $l2c_flags --out "$TMP/l2c_bare"
[ ! -e "$TMP/l2c_bare/student/tokenizer.bin" ] &&
    grep -q "has no tokenizer" "$TMP/l2c_bare/student/tokenizer_source.txt"
check "llama2.c teacher without tokenizer.bin: student/ says it has no tokenizer"

done_testing
