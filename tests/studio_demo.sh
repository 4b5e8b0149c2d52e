#!/bin/sh
# The README's demo in a real terminal (tmux): plain `lrc studio` with no
# MODEL argument selects the bundled teacher. Enter starts a distillation of
# it on curriculum text from `lrc corpus`. The panels move, p pauses and
# resumes, and s saves a checkpoint. On Ask, the teacher answers a held-out
# arithmetic question with PR-CoT, every stage in its own pane, and its chain
# of thought gets it right. q leaves a run that `lrc distill --resume`
# continues.
. "$LRC_TESTDATA/lib.sh"
. "$LRC_TESTDATA/studio_lib.sh"
bundled="$LRC_TESTDATA/../models/prcot-teacher-5m"
[ -f "$bundled/model.safetensors" ] || skip_all "no bundled teacher in $bundled"

# A small curriculum: the Setup screen tokenises the data file to count it.
"$LRC" corpus --out "$TMP/cur" --size 400 --eval-size 5 >/dev/null 2>&1
check "lrc corpus writes a small curriculum"
question=$(/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["family"] == "arith":
        print(t["question"]); print(t["answer"]); break' "$TMP/cur/eval.jsonl")
answer=$(echo "$question" | sed -n 2p)
question=$(echo "$question" | sed -n 1p)
[ -n "$question" ] && [ -n "$answer" ]
check "the held-out tasks hold an arithmetic question"

# HF_HUB_OFFLINE and a private cache, state and run folder: only the bundled
# teacher is listed.
STUDIO_ENV="HF_HUB_CACHE=$TMP/hub HF_HUB_OFFLINE=1 XDG_STATE_HOME=$TMP/state XDG_CONFIG_HOME=$TMP/config" \
    start_studio 120 40 --data cur/train.jsonl --steps 1000000 --warmup 0 --batch 1 --seq 64 \
    --probe-every 10 --save-every 0 --threads 1 --runs "$TMP/runs" --out "$TMP/run" \
    --init-method svd --clone-weight 0.1
wait_for '> prcot-teacher-5m +\(bundled\)'
check "setup selects the bundled teacher"
wait_for 'hidden d +256, 6 layers, 8 heads \(4 kv\) of 32'
check "setup shows the bundled teacher's summary"
wait_for 'rank \[?128'
check "the rank defaults to half the hidden size"

tmux -L "$sock" send-keys Enter
wait_for 'RUNNING' 60
check "Enter starts the distillation of the bundled teacher"
wait_file "$TMP/run/run.json" 30 && /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["init_method"] == "svd" and r["clone_weight"] == 0.1 and r["rank"] == 128 else 1)' \
    "$TMP/run/run.json"
check "run.json records --init-method svd, --clone-weight 0.1 and rank 128"
panels_moved
check "panels change between captures (step $step_a -> $step_b, $loss_a -> $loss_b)"

tmux -L "$sock" send-keys p
wait_for 'PAUSED'
check "p pauses"
tmux -L "$sock" send-keys p
wait_for 'RUNNING'
check "p resumes"
tmux -L "$sock" send-keys s
wait_for 'checkpoint saved: .*step-[0-9]+\.safetensors' 30
check "s saves a checkpoint"
ls "$TMP/run/checkpoints/"step-*.safetensors >/dev/null 2>&1
check "the checkpoint is on disk"

tmux -L "$sock" send-keys a
wait_for 'lrc studio · ask +method prcot \(F2\) +answers: student \(F3\)'
check "a opens Ask"
tmux -L "$sock" send-keys F3
wait_for 'answers: teacher \(F3\)'
check "F3 switches to the teacher"
tmux -L "$sock" send-keys -l "$question"
tmux -L "$sock" send-keys Enter
wait_for '6 Synthesis · [0-9.]+s' 120
check "the synthesis pane ends with its seconds"
screen >"$TMP/ask"
check_stage_panes "$TMP/ask"
# The bundled teacher's chain of thought gets this question right, as in
# tests/bundled_teacher.sh. Its reviews may still change the final answer.
grep -q "^│Final answer: $answer " "$TMP/ask" ||
    { grep 'answer' "$TMP/ask" | sed 's/^/# screen: /' && false; }
check "the chain-of-thought pane ends with the right answer, $answer"
grep -Eq "^ answer: [0-9]+ +\([0-9.]+s\)" "$TMP/ask"
check "the answer line shows the synthesis' number and seconds"
grep -q 'teacher: .*prcot-teacher-5m' "$TMP/ask"
check "the panes are labelled with the bundled teacher"

tmux -L "$sock" send-keys Escape
wait_for 'lrc studio · distill'
check "Esc goes back to the Distill screen"
tmux -L "$sock" send-keys q
wait_file "$TMP/studio.rc" 60 && [ "$(cat "$TMP/studio.rc")" = 0 ]
check "q stops the run and quits with status 0"
stopped=$(sed -n 's/.*stopped at step \([0-9]*\);.*/\1/p' "$TMP/studio.err")
[ -n "$stopped" ] && [ -s "$TMP/run/checkpoints/step-$(printf %06d "$stopped").safetensors" ]
check "the stop saved the checkpoint of step $stopped"
ok "lrc distill --resume continues the studio's run" \
    "$LRC" distill --resume "$TMP/run" --steps "$((stopped + 2))" --threads 1
[ -s "$TMP/run/student/model.safetensors" ]
check "the finished run exports the student"

done_testing
