#!/bin/sh
# lrc pretrain on the 128-token tokenizer of tests/reference/data/llama-f32,
# with a 2-layer config of hidden size 32 and a repetitive text.
# - Learning: the first step's loss is ln(128) within 0.2 (a near-uniform
#   softmax at the 0.02 init), and the last steps' loss is at least 2 nats
#   lower; the probe's perplexity falls too.
# - wsd: the constant run's steps until its decay starts, then the rate
#   falls linearly to 0.
# - Resume: 30 steps straight and 12 plus 18 with --resume write the same
#   metrics.jsonl, apart from the wall-clock fields. A constant run resumed
#   with --schedule wsd takes the wsd run's steps, from a checkpoint of the
#   older fingerprint kind too, and --decay-steps moves the decay. --resume
#   rejects any other changed setting and a config file edited since the
#   start.
# - SIGINT saves a checkpoint and exits 0; a diverging rate exits 3.
# - Export: RUN/model/ runs in lrc generate and lrc perplexity, with the
#   tokenizer files copied.
# - Bad input gets one line and leaves nothing on disk.
. "$LRC_TESTDATA/lib.sh"
py=/usr/bin/python3
[ -x "$py" ] || skip_all "no /usr/bin/python3 to read metrics.jsonl"
tok="$LRC_TESTDATA/reference/data/llama-f32"

config="$TMP/config.json"
cat >"$config" <<'JSON'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 32,
 "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
 "num_key_value_heads": 2, "vocab_size": 128, "max_position_embeddings": 64,
 "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": false}
JSON
text="$TMP/text.txt"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
    printf 'the cat sat on the mat. the dog ran to the cat and the cat ran away. %s\n' "$i"
done >"$text"
run_flags="--config $config --tokenizer $tok --data $text --batch 2 --seq 16 --lr 0.01
    --warmup 2 --schedule constant --probe-every 5 --save-every 4 --threads 1"

# --- learning and resume -------------------------------------------------------
# shellcheck disable=SC2086
ok "30 steps straight" "$LRC" pretrain $run_flags --steps 30 --out "$TMP/straight"
# The split run names the tokenizer file, not its folder; the straight run
# names the folder. Both must give the same tokens.
# shellcheck disable=SC2086
ok "12 steps" "$LRC" pretrain $run_flags --tokenizer "$tok/tokenizer.json" --steps 12 \
    --out "$TMP/split"
grep -q '"type":"probe","step":12' "$TMP/split/metrics.jsonl"
check "a run that reaches --steps ends with a probe (step 12, not a multiple of 5)"
ok "--resume for 18 more" "$LRC" pretrain --resume "$TMP/split" --steps 30 --threads 1
grep -q "from step 12 of 30" "$TMP/err"
check "--resume continues from step 12"
# The split run's final probe at step 12 is the one record the straight run lacks.
strip='import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "probe" and r["step"] == 12:
        continue
    for k in ("tokens_per_s", "elapsed_s", "eta_s"):
        r.pop(k, None)
    print(json.dumps(r, sort_keys=True))'
"$py" -c "$strip" "$TMP/straight/metrics.jsonl" >"$TMP/a" &&
    "$py" -c "$strip" "$TMP/split/metrics.jsonl" >"$TMP/b" && cmp -s "$TMP/a" "$TMP/b" &&
    [ "$(grep -c '"step"' "$TMP/a")" -eq 37 ]
check "resume: 12 + 18 steps give the 30-step metrics (30 steps, 7 probes)"
"$py" - "$TMP/straight/metrics.jsonl" >"$TMP/cmp" 2>&1 <<'PY'
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
probes = [r for r in rows if r["type"] == "probe"]
steps = [r for r in rows if r["type"] == "step"]
print("loss: first %.4f, mean of the last five %.4f; probe ppl %.3g -> %.3g"
      % (steps[0]["loss"], sum(s["loss"] for s in steps[-5:]) / 5,
         probes[0]["ppl_student"], probes[-1]["ppl_student"]))
assert abs(steps[0]["loss"] - math.log(128)) < 0.2, steps[0]
assert sum(s["loss"] for s in steps[-5:]) / 5 < steps[0]["loss"] - 2.0
assert all(s["ce"] == s["loss"] for s in steps)
assert all(s["kl"] == 0 and s["clone"] == 0 for s in steps)
assert steps[0]["lr"] == 0.005, steps[0]
assert steps[1]["lr"] == 0.01, steps[1]
assert steps[-1]["lr"] == 0.01, steps[-1]
assert [p["step"] for p in probes] == [0, 5, 10, 15, 20, 25, 30]
for p in probes:
    assert p["mi"] == [], p
    assert p["ppl_teacher"] is None, p
    assert 0 <= p["top1"] <= 1, p
assert probes[-1]["ppl_student"] < probes[0]["ppl_student"] / 4, probes
PY
check "the loss falls from ln(128) by more than 2 nats; probe perplexity falls"
sed 's/^/# /' "$TMP/cmp"

# --- wsd: the constant run's steps until the decay, then a linear fall to 0 ---
# shellcheck disable=SC2086
ok "30 steps of wsd with 10 decay steps" "$LRC" pretrain $run_flags --schedule wsd \
    --decay-steps 10 --steps 30 --out "$TMP/wsd"
"$py" - "$TMP/straight/metrics.jsonl" "$TMP/wsd/metrics.jsonl" "$TMP/wsd/run.json" \
    >"$TMP/cmp" 2>&1 <<'PY'
import json, sys
def steps(path):
    return [json.loads(l) for l in open(path) if '"type":"step"' in l]
const, wsd = steps(sys.argv[1]), steps(sys.argv[2])
settings = json.load(open(sys.argv[3]))
assert settings["schedule"] == "wsd", settings
assert settings["decay_steps"] == 10, settings
assert len(wsd) == 30
for a, b in zip(const[:20], wsd[:20]):
    assert (a["loss"], a["lr"], a["grad_norm"]) == (b["loss"], b["lr"], b["grad_norm"]), (a, b)
expect = [0.01 * (1 - i / 10) for i in range(1, 11)]
got = [r["lr"] for r in wsd[20:]]
assert all(abs(g - e) < 1e-12 for g, e in zip(got, expect)), got
assert wsd[-1]["lr"] == 0, wsd[-1]
print("wsd: steps 1-20 match constant; decay rates", " ".join("%.3g" % g for g in got))
PY
check "wsd matches constant, then decays"
sed 's/^/# /' "$TMP/cmp"
# A constant run resumed as wsd takes the wsd run's steps. Its checkpoint is
# given the fingerprint that checkpoints carried before a resume could change
# the schedule (it covered the schedule), which a resume must still accept.
# shellcheck disable=SC2086
ok "20 constant steps" "$LRC" pretrain $run_flags --steps 20 --out "$TMP/sw"
"$py" - "$TMP/sw" >"$TMP/cmp" 2>&1 <<'PY'
import json, struct, sys
run = sys.argv[1]
def fnv(text):
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) % (1 << 64)
    return "%016x" % h
def fingerprint(settings, skip):
    covered = {k: v for k, v in settings.items() if k not in skip}
    return fnv(json.dumps(covered, separators=(",", ":"), ensure_ascii=False))
settings = json.load(open(run + "/run.json"))
path = run + "/checkpoints/" + open(run + "/checkpoints/latest").read().strip()
raw = bytearray(open(path, "rb").read())
size = struct.unpack("<Q", raw[:8])[0]
stored = json.loads(raw[8 : 8 + size])["__metadata__"]["fingerprint"]
now = fingerprint(settings, ("steps", "threads", "save_every", "schedule", "decay_steps"))
old = fingerprint(settings, ("steps", "threads", "save_every"))
assert stored == now, (stored, now)
at = raw.index(stored.encode(), 8, 8 + size)
raw[at : at + 16] = old.encode()
open(path, "wb").write(raw)
print("checkpoint fingerprint %s replaced by the older kind %s" % (now, old))
PY
check "the checkpoint's fingerprint covers no schedule; it is replaced by the older kind"
sed 's/^/# /' "$TMP/cmp"
ok "--resume switches the constant run to wsd" "$LRC" pretrain --resume "$TMP/sw" --steps 30 \
    --schedule wsd --decay-steps 10
"$py" -c "$strip" "$TMP/wsd/metrics.jsonl" >"$TMP/a" &&
    "$py" -c "$strip" "$TMP/sw/metrics.jsonl" >"$TMP/b" && cmp -s "$TMP/a" "$TMP/b" &&
    [ "$(grep -c '"step"' "$TMP/a")" -eq 37 ]
check "20 constant steps resumed as wsd give the 30-step wsd metrics"
"$py" -c 'import json, sys; s = json.load(open(sys.argv[1])); sys.exit(s["schedule"] != "wsd" or s["decay_steps"] != 10)' \
    "$TMP/sw/run.json"
check "run.json records the new schedule"
"$LRC" pretrain --resume "$TMP/sw" --steps 40 --decay-steps 39 >"$TMP/out" 2>"$TMP/err"
[ $? -ne 0 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q -- "--warmup 2 plus --decay-steps 39 exceeds --steps 40" "$TMP/err" &&
    grep -q '"decay_steps":[[:space:]]*10,*$' "$TMP/sw/run.json"
check "--resume rejects a decay longer than the steps left and keeps run.json"
ok "--resume to 40 steps with 5 decay steps" "$LRC" pretrain --resume "$TMP/sw" --steps 40 \
    --decay-steps 5
"$py" - "$TMP/sw/metrics.jsonl" <<'PY'
import json, sys
lr = [json.loads(l)["lr"] for l in open(sys.argv[1]) if '"type":"step"' in l]
expect = [0.01] * 5 + [0.01 * (1 - i / 5) for i in range(1, 6)]
assert len(lr) == 40 and all(abs(g - e) < 1e-12 for g, e in zip(lr[30:], expect)), lr[30:]
PY
check "the rate holds to step 35, then falls to 0 at step 40"
fails_resume_change() {
    "$LRC" pretrain --resume "$TMP/split" --batch 4 >"$TMP/out" 2>"$TMP/err"
    [ $? -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -- "--batch" "$TMP/err"
}
fails_resume_change
check "--resume refuses a changed --batch (settings come from run.json)"
[ -s "$TMP/split/model/tokenizer.json" ] && [ -s "$TMP/split/model/tokenizer_config.json" ]
check "the run with a tokenizer file copies the tokenizer files of its folder"

# --- windows aligned to documents ----------------------------------------------
check_shuffle_docs pretrain "--config $config --tokenizer $tok --batch 2 --seq 16 --lr 0.01
    --warmup 2 --schedule constant --probe-every 5 --save-every 4 --threads 1"

# --- SIGINT and divergence -------------------------------------------------------
# shellcheck disable=SC2086
"$LRC" pretrain $run_flags --steps 1000000 --save-every 0 --probe-every 0 --out "$TMP/int" \
    >"$TMP/int.out" 2>"$TMP/int.err" &
pid=$!
i=0
while [ "$i" -lt 100 ] && ! grep -q '"step":3,' "$TMP/int/metrics.jsonl" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
# While it runs, a second process may not write the same run folder.
"$LRC" pretrain --resume "$TMP/int" --steps 1 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] &&
    grep -q "run folder $TMP/int is in use by another lrc process (pid $pid)" "$TMP/err"
check "--resume of a run another process is writing exits 1 naming its pid"
kill -INT "$pid"
wait "$pid"
status=$?
[ "$status" -eq 0 ] && [ -s "$TMP/int/checkpoints/latest" ] && grep -q "stopped at step" "$TMP/int.err"
check "SIGINT saves a checkpoint and exits 0 (status $status)"
# shellcheck disable=SC2086
"$LRC" pretrain $run_flags --steps 10 --lr 1e30 --warmup 0 --save-every 1 --out "$TMP/nan" \
    >"$TMP/out" 2>"$TMP/err"
status=$?
[ "$status" -eq 3 ] && grep -q "step 2" "$TMP/err" && grep -q "step-000001.safetensors" "$TMP/err"
check "a diverging --lr 1e30 exits 3 naming step 2 and the last good checkpoint (status $status)"
# shellcheck disable=SC2086
"$LRC" pretrain $run_flags --steps 10 --lr 1e30 --warmup 0 --save-every 0 --out "$TMP/nan0" \
    >"$TMP/out" 2>"$TMP/err"
[ $? -eq 3 ] && grep -q "removed what the run wrote in" "$TMP/err" && [ ! -e "$TMP/nan0" ]
check "a NaN before the first checkpoint removes the run folder"

# --- export --------------------------------------------------------------------
model="$TMP/straight/model"
ok "the model runs in lrc generate" "$LRC" generate "$model" --prompt "the cat" -n 8 \
    --temperature 0
ok "the model runs in lrc perplexity" "$LRC" perplexity "$model" --text "$text" --ctx 16
ppl=$(sed -n 's/^perplexity //p' "$TMP/out")
"$py" -c 'import sys; assert 1 < float(sys.argv[1]) < 20, sys.argv[1]' "$ppl"
check "lrc perplexity of the trained model on its text is below 20 (got $ppl; 128 at init)"
"$py" -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["hidden_size"]==32 and c["vocab_size"]==128 and c["tie_word_embeddings"] is False, c' \
    "$model/config.json" && [ -s "$model/tokenizer.json" ] && [ -s "$model/tokenizer_config.json" ]
check "model/ has the config's shape and the tokenizer files"

# --- bad input -------------------------------------------------------------------
# bad DESCRIPTION PATTERN ARGS...: fails with one line matching PATTERN and
# leaves neither --out nor anything in the working folder behind.
mkdir "$TMP/cwd"
bad() {
    desc=$1 pattern=$2
    shift 2
    (cd "$TMP/cwd" && "$LRC" pretrain "$@" --out "$TMP/bad" >"$TMP/out" 2>"$TMP/err")
    status=$?
    [ "$status" -ne 0 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -- "$pattern" "$TMP/err" &&
        [ ! -e "$TMP/bad" ] && [ -z "$(ls -A "$TMP/cwd")" ]
    check "$desc"
    sed 's/^/# /' "$TMP/err"
}
base="--tokenizer $tok --batch 2 --seq 16 --probe-every 0"
sed 's/"vocab_size": 128/"vocab_size": 100/' "$config" >"$TMP/small_vocab.json"
# shellcheck disable=SC2086
bad "vocab_size below the tokenizer's vocabulary" "vocab_size 100" $base \
    --config "$TMP/small_vocab.json" --data "$text"
printf '{"hidden_size": 32, "num_hidden_layers": \n' >"$TMP/broken.json"
# shellcheck disable=SC2086
bad "malformed config" "broken.json" $base --config "$TMP/broken.json" --data "$text"
sed 's/"num_attention_heads": 4/"num_attention_heads": 3/' "$config" >"$TMP/heads.json"
# shellcheck disable=SC2086
bad "config whose heads do not divide the hidden size" "heads.json" $base \
    --config "$TMP/heads.json" --data "$text"
printf 'the cat\n' >"$TMP/short.txt"
# shellcheck disable=SC2086
bad "data shorter than one window" "short.txt" $base --config "$config" --data "$TMP/short.txt"
# shellcheck disable=SC2086
bad "--seq beyond max_position_embeddings" "max_position_embeddings" --tokenizer "$tok" \
    --seq 100 --config "$config" --data "$text"
: >"$TMP/plain"
# shellcheck disable=SC2086
(cd "$TMP/cwd" && "$LRC" pretrain $base --config "$config" --data "$text" \
    --out "$TMP/plain/run" >"$TMP/out" 2>"$TMP/err")
[ $? -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "plain" "$TMP/err" &&
    [ -f "$TMP/plain" ] && [ ! -s "$TMP/plain" ] && [ -z "$(ls -A "$TMP/cwd")" ]
check "unwritable --out (under a regular file)"
"$LRC" pretrain --config "$config" --tokenizer "$tok" --data "$text" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -- "--out" "$TMP/err"
check "a missing --out is a usage error"
"$LRC" pretrain --config "$config" --tokenizer "$tok" --data "$text" --out "" >"$TMP/out" \
    2>"$TMP/err"
[ $? -eq 2 ] && grep -q -- "--out is empty" "$TMP/err"
check "an empty --out is a usage error"
"$LRC" pretrain --config "$config" --tokenizer "$tok" --data "$text" --schedule foo \
    --out "$TMP/sched" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] &&
    grep -q -- "--schedule: 'foo' is not one of cosine, linear, constant, wsd" "$TMP/err"
check "an unknown --schedule lists the four names"
"$LRC" pretrain --config "$config" --tokenizer "$tok" --data "$text" --decay-steps 5 \
    --out "$TMP/sched" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q -- "--decay-steps applies only to --schedule wsd" "$TMP/err" && [ ! -e "$TMP/sched" ]
check "--decay-steps needs wsd"
"$LRC" pretrain --config "$config" --tokenizer "$tok" --data "$text" --schedule wsd \
    --steps 20 --warmup 5 --decay-steps 16 --out "$TMP/sched" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q -- "--warmup 5 plus --decay-steps 16 exceeds --steps 20" "$TMP/err" &&
    [ ! -e "$TMP/sched" ]
check "wsd warmup plus decay too long"
"$LRC" distill --resume "$TMP/straight" --steps 80 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] &&
    grep -q "$TMP/straight was made by lrc pretrain; use lrc pretrain --resume $TMP/straight" \
        "$TMP/err"
check "lrc distill --resume on a pretrain run names lrc pretrain"
# shellcheck disable=SC2086
bad "a --config folder is a directory" "is a directory" $base --config "$(dirname "$config")" \
    --data "$text"
cp "$config" "$TMP/edited.json"
# shellcheck disable=SC2086
"$LRC" pretrain $base --config "$TMP/edited.json" --data "$text" --steps 2 --out "$TMP/edit" \
    >"$TMP/out" 2>"$TMP/err"
sed 's/"rope_theta": 10000.0/"rope_theta": 500000.0/' "$config" >"$TMP/edited.json"
"$LRC" pretrain --resume "$TMP/edit" --steps 4 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "edited.json changed" "$TMP/err" &&
    [ ! -e "$TMP/edit/checkpoints/step-000004.safetensors" ]
check "--resume rejects a config file changed since the run started"
sed 's/^/# /' "$TMP/err"

done_testing
