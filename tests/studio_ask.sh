#!/bin/sh
# The studio's Ask screen in a real terminal (tmux). While a distillation
# runs, a question typed on the readline prompt goes to the teacher with
# PR-CoT. Every stage (chain of thought, four reflections, synthesis) fills
# its own pane and shows its seconds, and training keeps running meanwhile.
# The question lands in the history file; F2 and F3 switch method and model.
. "$LRC_TESTDATA/lib.sh"
. "$LRC_TESTDATA/studio_lib.sh"
fixture="$(dirname "$LRC")/tests/make_model_fixture"
[ -x "$fixture" ] || skip_all "tests/make_model_fixture is not built"

write_ask_teacher "$TMP/teacher"
write_text "$TMP/text.txt" 16

STUDIO_ENV="XDG_STATE_HOME=$TMP/state" start_studio 120 40 --data text.txt --rank 16 \
    --steps 1000000 --warmup 0 --batch 2 --seq 16 --probe-every 50 --save-every 0 --threads 1 \
    "$TMP/teacher"
wait_for 'teachers'
tmux -L "$sock" send-keys Enter
wait_for 'RUNNING' 30
check "the distillation runs"

tmux -L "$sock" send-keys a
wait_for 'lrc studio · ask +method prcot \(F2\) +answers: student \(F3\)'
check "a opens Ask with PR-CoT and the student"
tmux -L "$sock" send-keys F3
wait_for 'answers: teacher \(F3\)'
check "F3 switches to the teacher"

# Typing: the line shows the text and training steps keep coming.
tmux -L "$sock" send-keys -l "what is 2 + 3?"
wait_for '^question> what is 2 \+ 3\?'
check "the question line shows the typed text"
s1=$(screen | sed -n 's/.*training step \([0-9]*\)\/.*/\1/p')
sleep 0.5
s2=$(screen | sed -n 's/.*training step \([0-9]*\)\/.*/\1/p')
[ -n "$s1" ] && [ "$s2" -gt "$s1" ]
check "training goes on while the user types (step $s1 -> $s2)"

tmux -L "$sock" send-keys Enter
wait_for '6 Synthesis · [0-9.]+s' 60
check "the synthesis pane ends with its seconds"
screen >"$TMP/ask"
check_stage_panes "$TMP/ask"
grep -q 'teacher: .*/teacher' "$TMP/ask"
check "the panes are labelled with the teacher's path"
[ "$(grep -c '│[^│ ]' "$TMP/ask")" -gt 6 ]
check "the panes hold streamed text"
grep -Eq '^ (answer: .*\([0-9.]+s\)|no answer: stage synthesis)' "$TMP/ask"
check "the answer line reports the synthesis"

grep -qx 'what is 2 + 3?' "$TMP/state/lrc/history"
check "the question is saved in \$XDG_STATE_HOME/lrc/history"
tmux -L "$sock" send-keys F2
wait_for 'method cot \(F2\)'
check "F2 switches the method to cot"
tmux -L "$sock" send-keys Up
wait_for '^question> what is 2 \+ 3\?'
check "Up recalls the question from the history"

tmux -L "$sock" send-keys Escape
wait_for 'lrc studio · distill'
check "Esc goes back to the Distill screen"
tmux -L "$sock" send-keys q
wait_file "$TMP/studio.rc" 30 && [ "$(cat "$TMP/studio.rc")" = 0 ]
check "q stops the run and quits with status 0"

done_testing
