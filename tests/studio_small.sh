#!/bin/sh
# The studio below its minimum size shows the size it needs; with a non-UTF-8
# locale it draws ASCII; NO_COLOR leaves colours out; a bad theme is one
# line before the screen opens.
. "$LRC_TESTDATA/lib.sh"
. "$LRC_TESTDATA/studio_lib.sh"
teacher="$LRC_TESTDATA/reference/data/llama-f32"

start_studio 60 15 "$teacher"
wait_for 'terminal is 60x15; the studio needs at least 80x24'
check "a 60x15 terminal shows the size needed"
tmux -L "$sock" resize-window -x 100 -y 30
wait_for 'lrc studio · setup'
check "growing the terminal draws the Setup screen"
tmux -L "$sock" send-keys q
wait_file "$TMP/studio.rc" 10 && [ "$(cat "$TMP/studio.rc")" = 0 ]
check "q quits from Setup with status 0"

STUDIO_ENV="LC_ALL=C" start_studio 100 30 "$teacher"
wait_for 'teachers'
check "the studio starts in the C locale"
screen >"$TMP/ascii"
grep -q '^+-*\[ teachers \]-*+' "$TMP/ascii" && ! grep -q '[┌│─]' "$TMP/ascii"
check "the C locale draws ASCII frames"
tmux -L "$sock" send-keys q
wait_file "$TMP/studio.rc" 10

start_studio 100 30 "$teacher"
wait_for 'teachers'
tmux -L "$sock" capture-pane -p -e >"$TMP/color"
grep -q "$(printf '\033')\[[0-9;]*3[0-9;]*m" "$TMP/color"
check "the default theme draws in colour"
tmux -L "$sock" send-keys q
wait_file "$TMP/studio.rc" 10

STUDIO_ENV="NO_COLOR=1" start_studio 100 30 "$teacher"
wait_for 'teachers'
tmux -L "$sock" capture-pane -p -e >"$TMP/nocolor"
! grep -q "$(printf '\033')\[[0-9;]*\(3[0-7]\|38;5;[0-9]*\|9[0-7]\)m" "$TMP/nocolor"
check "NO_COLOR draws without colours"
tmux -L "$sock" send-keys q
wait_file "$TMP/studio.rc" 10

STUDIO_SUBCOMMAND= start_studio 100 30
wait_for 'lrc studio · setup'
check "lrc alone on a terminal opens the studio"
tmux -L "$sock" send-keys q
wait_file "$TMP/studio.rc" 10

start_studio 100 30 --theme no-such-theme "$teacher"
wait_file "$TMP/studio.rc" 10
[ "$(cat "$TMP/studio.rc")" = 1 ] && grep -q "theme 'no-such-theme' not found" "$TMP/studio.err"
check "an unknown theme is one line and status 1"

"$LRC" studio --rank x </dev/null >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "studio: --rank 'x': expected an integer" "$TMP/err"
check "a bad option is a usage error"
"$LRC" studio </dev/null >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "must be a terminal" "$TMP/err"
check "the studio needs a terminal"
"$LRC" </dev/null >"$TMP/out" 2>"$TMP/err"
grep -q '^usage: lrc <command>' "$TMP/out" && grep -q 'studio' "$TMP/out"
check "lrc alone in a pipe prints the usage, listing studio"

done_testing
