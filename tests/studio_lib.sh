# Helpers for the studio's terminal tests, sourced after lib.sh: a tmux server
# on a private socket (killed on exit), a pane of a given size running the
# studio, captures of the screen and polls with a timeout.
command -v tmux >/dev/null 2>&1 || skip_all "tmux is not installed (quickstart installs it)"
locale -a 2>/dev/null | grep -qi '^c\.utf-\?8$' || skip_all "no C.UTF-8 locale"

# Each start gets its own server (lrc-test-PID-N), because a new server on a
# socket whose old server is still exiting can fail to start.
studio_n=0
sock="lrc-test-$$-0"
sock_path=

# kill_server: end the current server and remove its socket file.
kill_server() {
    tmux -L "$sock" kill-server 2>/dev/null
    [ -n "$sock_path" ] && rm -f "$sock_path"
    sock_path=
}
trap 'kill_server; rm -rf "$TMP"' EXIT

# write_ask_teacher DIR: a tiny teacher in DIR, with a context long enough for
# the PR-CoT prompts and the 128-id tokenizer of the reference model, made by
# $fixture (tests/make_model_fixture); one TAP line.
write_ask_teacher() {
    "$fixture" "$1" d=48 layers=2 heads=4 kv_heads=2 mlp=96 vocab=128 seq=2048 \
        >/dev/null 2>&1 &&
        cp "$LRC_TESTDATA/reference/data/llama-f32/tokenizer.json" \
            "$LRC_TESTDATA/reference/data/llama-f32/tokenizer_config.json" "$1/"
    check "the teacher fixture is written"
}

# write_text FILE N: N numbered lines of simple training text into FILE.
write_text() {
    i=1
    while [ "$i" -le "$2" ]; do
        printf 'the cat sat on the mat. the dog ran to the cat and the cat ran away. %s\n' "$i"
        i=$((i + 1))
    done >"$1"
}

# start_studio COLS ROWS ARGS...: run "lrc studio ARGS" in $TMP in a new
# pane; its stderr goes to $TMP/studio.err and its exit status to
# $TMP/studio.rc. Set STUDIO_ENV for extra variables (NAME=VALUE ...), and
# STUDIO_SUBCOMMAND= (empty) to run plain "lrc".
start_studio() {
    cols=$1
    rows=$2
    shift 2
    rm -f "$TMP/studio.rc"
    printf 'cd "%s" && env TERM=xterm-256color LC_ALL=C.UTF-8 %s "%s" %s' \
        "$TMP" "${STUDIO_ENV:-}" "$LRC" "${STUDIO_SUBCOMMAND-studio}" >"$TMP/studio.cmd"
    for a in "$@"; do
        printf ' "%s"' "$a" >>"$TMP/studio.cmd"
    done
    printf ' 2>"%s/studio.err"; echo $? >"%s/studio.rc"; sleep 120\n' "$TMP" "$TMP" \
        >>"$TMP/studio.cmd"
    kill_server
    studio_n=$((studio_n + 1))
    sock="lrc-test-$$-$studio_n"
    tmux -L "$sock" new-session -d -x "$cols" -y "$rows" "sh $TMP/studio.cmd"
    sock_path=$(tmux -L "$sock" display-message -p '#{socket_path}' 2>/dev/null)
}

# screen: the pane's text now.
screen() {
    tmux -L "$sock" capture-pane -p
}

# wait_for PATTERN [SECONDS]: poll the screen every 0.2 s until a line
# matches the extended regular expression; fails after SECONDS (default 20),
# or at once when the studio has exited.
wait_for() {
    if [ -e "$TMP/studio.rc" ]; then
        sed 's/^/# studio stderr: /' "$TMP/studio.err" 2>/dev/null | head -5
        return 1
    fi
    i=0
    limit=$((${2:-20} * 5))
    while [ "$i" -lt "$limit" ]; do
        screen >"$TMP/screen" 2>/dev/null
        grep -Eq -- "$1" "$TMP/screen" && return 0
        sleep 0.2
        i=$((i + 1))
    done
    sed 's/^/# screen: /' "$TMP/screen" | head -50
    return 1
}

# wait_file PATH [SECONDS]: poll until PATH exists.
wait_file() {
    i=0
    limit=$((${2:-20} * 5))
    while [ "$i" -lt "$limit" ]; do
        [ -e "$1" ] && return 0
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

# current_step: the step counter of the Distill screen's progress line.
current_step() {
    screen | sed -n 's/^ *step \([0-9]*\)\/.*/\1/p' | head -1
}

# panels_moved: capture the Distill screen to $TMP/a, wait, capture it to
# $TMP/b once the MI panel has a probe, and succeed when the step counter
# and the loss title both changed. Sets step_a, step_b, loss_a and loss_b
# for the TAP line.
panels_moved() {
    screen >"$TMP/a"
    sleep 2
    wait_for 'MI per layer \(nats\), step [1-9]' 60 || return 1
    screen >"$TMP/b"
    step_a=$(sed -n 's/^ *step \([0-9]*\)\/.*/\1/p' "$TMP/a")
    step_b=$(sed -n 's/^ *step \([0-9]*\)\/.*/\1/p' "$TMP/b")
    loss_a=$(grep -o 'loss: total [0-9.]*' "$TMP/a")
    loss_b=$(grep -o 'loss: total [0-9.]*' "$TMP/b")
    [ -n "$step_a" ] && [ "$step_b" -gt "$step_a" ] && [ -n "$loss_a" ] && [ "$loss_a" != "$loss_b" ]
}

# check_stage_panes FILE: one TAP line per PR-CoT pane before the synthesis
# (chain of thought and the four perspectives), each of which must end with
# its seconds in the captured Ask screen FILE.
check_stage_panes() {
    for title in 'Chain of thought' 'Alternative solutions' 'Biases and ethics' \
        'Information completeness' 'Logical consistency'; do
        grep -Eq "[1-5] $title · [0-9.]+s" "$1"
        check "the '$title' pane ends with its seconds"
    done
}
