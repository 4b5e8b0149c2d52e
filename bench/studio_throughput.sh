#!/bin/sh
# studio_throughput: distillation throughput with the studio drawing, against
# `lrc distill --no-tui` on the same settings in the same run.
#
#   bench/studio_throughput.sh [LRC] [TEACHER] [STEPS]
#
# LRC defaults to ./lrc, TEACHER to the source tree's tiny test teacher
# (tests/reference/data/llama-f32), STEPS to 3000. Each mode runs ROUNDS times
# (default 3), alternating, so drift of the machine hits both alike. RANK
# (default 16), BATCH (8), SEQ (64) and THREADS (1) set the run, and DATA a
# training file (default: generated lines of simple English text). The
# throughput of a run is its tokens (steps × batch × seq) over the training
# time metrics.jsonl records for the last step (elapsed_s, which counts the
# probes too). The studio runs in a 120x40 tmux pane on a private socket,
# started from its Setup screen with Enter and closed with q when the run
# has finished. Prints each run and the ratio of the medians.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
lrc=${1:-./lrc}
teacher=${2:-$here/tests/reference/data/llama-f32}
steps=${3:-3000}
rounds=${ROUNDS:-3}
batch=${BATCH:-8}
seq=${SEQ:-64}
rank=${RANK:-16}
threads=${THREADS:-1}
command -v tmux >/dev/null || { echo "studio_throughput: tmux is needed" >&2; exit 1; }
lrc=$(cd "$(dirname "$lrc")" && pwd)/$(basename "$lrc")

work=$(mktemp -d)
sock="lrc-bench-$$"
sock_path=
trap 'tmux -L "$sock" kill-server 2>/dev/null; [ -z "$sock_path" ] || rm -f "$sock_path"; rm -rf "$work"' EXIT

if [ -n "${DATA:-}" ]; then
    data_file=data.${DATA##*.}
    cp "$DATA" "$work/$data_file"
else
    # Text for the tiny teacher's 128-token vocabulary.
    data_file=text.txt
    i=0
    while [ $i -lt 200 ]; do
        printf 'the cat sat on the mat. the dog ran to the cat and the cat ran away. %s\n' $i
        i=$((i + 1))
    done >"$work/text.txt"
fi
flags="--rank $rank --steps $steps --batch $batch --seq $seq --probe-every 50 --save-every 0 --threads $threads"

# tokens per second of the run in $1 (a run folder)
rate() {
    /usr/bin/python3 - "$1/metrics.jsonl" "$steps" "$batch" "$seq" <<'PY'
import json, sys
last = [json.loads(l) for l in open(sys.argv[1]) if '"type":"step"' in l][-1]
steps, b, t = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
assert last["step"] == steps, last["step"]
print("%.0f" % (steps * b * t / last["elapsed_s"]))
PY
}

headless() {
    # shellcheck disable=SC2086
    "$lrc" distill --no-tui --teacher "$teacher" --data "$work/$data_file" $flags \
        --out "$work/h$1" >/dev/null 2>&1
    rate "$work/h$1"
}

studio() {
    rm -f "$work/rc"
    tmux -L "$sock" new-session -d -x 120 -y 40 \
        "cd $work && env TERM=xterm-256color LC_ALL=C.UTF-8 $lrc studio --data $data_file $flags --out $work/s$1 $teacher 2>$work/err; echo \$? >$work/rc; sleep 60"
    sock_path=$(tmux -L "$sock" display-message -p '#{socket_path}')
    sleep 1
    tmux -L "$sock" send-keys Enter
    n=0
    until tmux -L "$sock" capture-pane -p | grep -q 'FINISHED\|FAILED'; do
        sleep 0.2
        n=$((n + 1))
        [ $n -lt 3000 ] || { echo "studio_throughput: the studio run did not finish" >&2; exit 1; }
    done
    tmux -L "$sock" send-keys q
    until [ -e "$work/rc" ]; do sleep 0.2; done
    tmux -L "$sock" kill-server 2>/dev/null || true
    rm -f "$sock_path"
    rate "$work/s$1"
}

median() {
    tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

echo "studio_throughput: $steps steps of batch $batch x seq $seq at rank $rank on $threads threads, teacher $teacher, $rounds rounds"
hs=""
ss=""
r=1
while [ $r -le "$rounds" ]; do
    h=$(headless $r)
    s=$(studio $r)
    echo "round $r: headless $h tok/s, studio $s tok/s"
    hs="$hs $h"
    ss="$ss $s"
    r=$((r + 1))
done
hm=$(echo "$hs" | median)
sm=$(echo "$ss" | median)
echo "median: headless $hm tok/s, studio $sm tok/s, ratio $(awk -v a="$sm" -v b="$hm" 'BEGIN {printf "%.3f", a / b}')"
