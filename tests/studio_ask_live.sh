#!/bin/sh
# Asking the student while its distillation still trains (tmux). The Ask
# screen takes a copy of the student's parameters from the trainer between
# two steps, and the pane label names the step of the copy. That step is no
# earlier than the step shown before the question and no later than the one
# after. A second question takes a newer copy. Every PR-CoT stage of the student
# fills its pane, training keeps going, no student/ folder is written before
# the run ends, and q still leaves a resumable run.
. "$LRC_TESTDATA/lib.sh"
. "$LRC_TESTDATA/studio_lib.sh"
fixture="$(dirname "$LRC")/tests/make_model_fixture"
[ -x "$fixture" ] || skip_all "tests/make_model_fixture is not built"

write_ask_teacher "$TMP/teacher"
write_text "$TMP/text.txt" 16

# ask_step: the training step in the Ask screen's title.
ask_step() {
    screen | sed -n 's/.*training step \([0-9]*\)\/.*/\1/p' | head -1
}
# label_step: the step the student's pane label names.
label_step() {
    screen | sed -n 's/.*student: .*live at step \([0-9]*\) of .*/\1/p' | head -1
}

# wait_new_copy OLD: poll until the label names a step other than OLD (20 s).
wait_new_copy() {
    i=0
    while [ "$i" -lt 100 ]; do
        st=$(label_step)
        [ -n "$st" ] && [ "$st" != "$1" ] && return 0
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

STUDIO_ENV="XDG_STATE_HOME=$TMP/state" start_studio 120 40 --data text.txt --rank 16 \
    --steps 1000000 --warmup 0 --batch 2 --seq 16 --probe-every 50 --save-every 0 --threads 1 \
    --out run "$TMP/teacher"
wait_for 'teachers'
tmux -L "$sock" send-keys Enter
wait_for 'RUNNING' 30
check "the distillation runs"
tmux -L "$sock" send-keys a
wait_for 'answers: student \(F3\)'
check "a opens Ask with the student"

before=$(ask_step)
tmux -L "$sock" send-keys -l "what is 2 + 3?"
tmux -L "$sock" send-keys Enter
wait_for 'student: .*run, live at step [0-9]+ of 1000000' 20
check "the student's panes name the run and the step of the copy"
wait_for '6 Synthesis · [0-9.]+s' 60
check "the student's synthesis pane ends with its seconds"
after=$(ask_step)
at=$(label_step)
[ -n "$before" ] && [ -n "$at" ] && [ "$before" -le "$at" ] && [ "$at" -le "$after" ]
check "the copy is from a step between the question ($before) and its end ($after): $at"
screen >"$TMP/ask"
for title in 'Chain of thought' 'Alternative solutions' 'Biases and ethics' \
    'Information completeness' 'Logical consistency'; do
    grep -Eq "[1-5] $title · [0-9.]+s" "$TMP/ask"
    check "the student's '$title' pane ends with its seconds"
done
grep -Eq '^ (answer: .*\([0-9.]+s\)|no answer: stage synthesis)' "$TMP/ask"
check "the answer line reports the synthesis"
[ "$after" -gt "$before" ]
check "training went on during the question (step $before -> $after)"
[ ! -e "$TMP/run/student" ]
check "no student/ folder was exported to ask it"

# A second question copies the student again, at a later step.
tmux -L "$sock" send-keys F2
wait_for 'method cot \(F2\)'
tmux -L "$sock" send-keys -l "and 3 + 4?"
tmux -L "$sock" send-keys Enter
wait_new_copy "$at"
at2=$(label_step)
[ -n "$at2" ] && [ "$at2" -gt "$at" ]
check "the second question uses a newer copy (step $at -> $at2)"
wait_for '1 Chain of thought · [0-9.]+s' 30 && ! grep -q 'Synthesis' "$TMP/screen"
check "the second question, plain CoT, fills its one pane"

# Paused, the trainer still hands over a copy.
tmux -L "$sock" send-keys Escape p
wait_for 'PAUSED' 10
paused=$(current_step)
tmux -L "$sock" send-keys a
wait_for 'answers: student'
tmux -L "$sock" send-keys -l "paused?"
tmux -L "$sock" send-keys Enter
wait_new_copy "$at2"
[ "$(label_step)" = "$paused" ]
check "a paused run hands over the copy at the paused step ($paused)"

tmux -L "$sock" send-keys Escape q
wait_file "$TMP/studio.rc" 30 && [ "$(cat "$TMP/studio.rc")" = 0 ]
check "q stops the run and quits with status 0"
ls "$TMP"/run/checkpoints/step-*.safetensors >/dev/null 2>&1 ||
    ls "$TMP"/run/*.safetensors >/dev/null 2>&1 || ls -R "$TMP/run" | grep -q 'step'
check "the stopped run left a checkpoint to resume from"

done_testing
