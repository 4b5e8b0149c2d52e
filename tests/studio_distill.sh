#!/bin/sh
# The studio in a real terminal (tmux): from Setup to a running distillation
# whose panels change, pause and resume, a checkpoint saved on request, a
# resize redrawn at the new size, and q leaving a run that
# 'lrc distill --resume' continues.
. "$LRC_TESTDATA/lib.sh"
. "$LRC_TESTDATA/studio_lib.sh"
teacher="$LRC_TESTDATA/reference/data/llama-f32"
write_text "$TMP/text.txt" 16

# --save-every 0: the only checkpoints are the one requested with s and the
# one written on stop.
start_studio 120 40 --data text.txt --rank 16 --steps 1000000 --warmup 0 --batch 2 --seq 16 \
    --probe-every 20 --save-every 0 --threads 1 --out "$TMP/run" "$teacher"

wait_for 'teachers' && wait_for '> llama-f32 +\(argument\)'
check "setup lists the MODEL argument as a teacher"
wait_for 'hidden d +48, 2 layers, 4 heads \(2 kv\) of 12'
check "setup shows the teacher's lrc info summary"
wait_for 'student +[0-9.K]+ parameters, [0-9.]+x smaller'
check "setup shows the student's size at rank 16"
wait_for 'theory \(guidance\): r\* ∝ √n; √n = [0-9.]+, n = [0-9]+ windows of 16 tokens'
check "setup shows the rank advisor as guidance"

tmux -L "$sock" send-keys Enter
wait_for 'RUNNING' 30
check "Enter starts the distillation"
wait_for '^ *step [1-9][0-9]*/1000000'
check "the progress line counts steps"

# Two captures a moment apart: the step counter and the loss title move.
panels_moved
check "panels change between captures (step $step_a -> $step_b, $loss_a -> $loss_b)"
grep -q '⣀\|⠉\|⡇\|⢸\|⣿' "$TMP/b"
check "charts are drawn in braille on a UTF-8 terminal"
grep -Eq 'MI per layer \(nats\), step [0-9]+: sum [0-9.]+' "$TMP/b" && grep -Eq '│L0 ' "$TMP/b"
check "the MI panel shows a bar per layer and their sum"
grep -Eq 'gradient norm [0-9.e+-]+ \(log scale\); theory c/√t, c = [0-9.e+-]+' "$TMP/b"
check "the gradient-norm panel shows the fitted c/√t reference"

# Pause: the counter stops; resume: it moves again.
tmux -L "$sock" send-keys p
wait_for 'PAUSED'
check "p pauses"
paused=$(current_step)
sleep 1
[ "$(current_step)" = "$paused" ]
check "no step is taken while paused (step $paused)"
tmux -L "$sock" send-keys p
wait_for 'RUNNING'
check "p resumes"
moved=no
for _ in 1 2 3 4 5 6 7 8 9 10; do
    now=$(current_step)
    [ -n "$now" ] && [ "$now" -gt "$paused" ] && moved=yes && break
    sleep 0.2
done
[ "$moved" = yes ]
check "steps move again after resuming"

# s writes a checkpoint file.
ls "$TMP/run/checkpoints/"*.safetensors >/dev/null 2>&1
[ $? -ne 0 ]
check "no checkpoint before s (--save-every 0)"
tmux -L "$sock" send-keys s
found=no
for _ in $(seq 1 50); do
    ls "$TMP/run/checkpoints/"step-*.safetensors >/dev/null 2>&1 && found=yes && break
    sleep 0.2
done
[ "$found" = yes ]
check "s writes a checkpoint to run/checkpoints"
wait_for 'checkpoint saved: .*step-[0-9]+\.safetensors'
check "the log pane reports the saved checkpoint"

# Resize during training: the frame is redrawn at the new size. tmux keeps
# the old screen's bottom lines, cropped, until the studio redraws, so the
# check waits for the log frame closed at column 100 (its "┐"), which only
# the redraw can draw.
tmux -L "$sock" resize-window -x 100 -y 30
ok_resize=no
for _ in $(seq 1 50); do
    screen >"$TMP/r"
    lines=$(wc -l <"$TMP/r")
    width=$(/usr/bin/python3 -c 'import sys; print(max(len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")))' "$TMP/r" 2>/dev/null)
    log_frame=$(/usr/bin/python3 -c 'import sys; print(sum(1 for l in open(sys.argv[1], encoding="utf-8") if l.startswith("┌─ log ") and len(l.rstrip("\n")) == 100 and l.rstrip("\n").endswith("┐")))' "$TMP/r" 2>/dev/null)
    last=$(sed -n '30p' "$TMP/r")
    if [ "$lines" -eq 30 ] && [ "$width" = 100 ] && [ "$log_frame" = 1 ] &&
        echo "$last" | grep -q 'p pause/resume'; then
        ok_resize=yes
        break
    fi
    sleep 0.2
done
[ "$ok_resize" = yes ]
check "resize to 100x30 redraws at the new size (lines $lines, width $width)"
grep -q '└─*┘' "$TMP/r" && grep -Eq '^ *step [0-9]+/1000000' "$TMP/r"
check "the redrawn screen keeps its frames and progress line"

# q stops with a checkpoint and quits; the run resumes headless.
tmux -L "$sock" send-keys q
wait_file "$TMP/studio.rc" 30
check "q quits the studio"
[ "$(cat "$TMP/studio.rc" 2>/dev/null)" = 0 ]
check "the studio exits 0"
grep -q "continue with 'lrc distill --resume $TMP/run'" "$TMP/studio.err"
check "the stop message names the resume command"
stopped=$(sed -n 's/.*stopped at step \([0-9]*\);.*/\1/p' "$TMP/studio.err")
[ -n "$stopped" ] && [ -s "$TMP/run/checkpoints/step-$(printf %06d "$stopped").safetensors" ]
check "the stop saved the checkpoint of step $stopped"
more=$((stopped + 5))
ok "lrc distill --resume continues the studio's run" \
    "$LRC" distill --resume "$TMP/run" --steps "$more" --threads 1
grep -q "from step $stopped of $more" "$TMP/err"
check "the resumed run starts at step $stopped"
[ -s "$TMP/run/student/model.safetensors" ]
check "the finished run exports the student"

done_testing
