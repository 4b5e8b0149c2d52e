#!/bin/sh
# The studio's Ask screen with an OpenAI-compatible endpoint (tests/mock_openai.py
# on 127.0.0.1) as the model that answers. A PR-CoT question fills every pane
# (chain of thought, four reflections, synthesis) with the mock's scripted
# text and each stage's seconds. The four reflections are sent together: each
# reply waits 1.5 s, so in turn they would take 6 s, together about 1.5 s. F2
# switches to plain CoT, F4 puts the local teacher beside the endpoint, and
# config.json's "endpoint" and "model_name" work like the options. The API key
# reaches the server and never the screen or stderr.
. "$LRC_TESTDATA/lib.sh"
. "$LRC_TESTDATA/studio_lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "/usr/bin/python3 not found (run ./quickstart to install it)"
fixture="$(dirname "$LRC")/tests/make_model_fixture"
[ -x "$fixture" ] || skip_all "tests/make_model_fixture is not built"

KEY="sk-studio-$$-$(date +%s)"
MOCK_PID=
trap 'kill_server; [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

# Usage errors come before the terminal check, so they need no tmux.
"$LRC" studio --endpoint http://127.0.0.1:9 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q 'needs --model-name' "$TMP/err"
check "--endpoint without --model-name is a usage error"
"$LRC" studio --endpoint ftp://127.0.0.1:9 --model-name m >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "expected an http:// or https:// URL" "$TMP/err"
check "a non-HTTP endpoint URL is a usage error"
"$LRC" studio --help | grep -q -- '--endpoint URL'
check "studio --help lists --endpoint"

write_ask_teacher "$TMP/teacher"

# The synthesis is the only prompt with "## " headings; each perspective
# prompt names its title; the chain of thought gets the fallback reply.
"$PY" - "$TMP/script.json" <<'EOF'
import json, sys
titles = ["Alternative solutions", "Biases and ethics", "Information completeness",
          "Logical consistency"]
rules = [{"match": "## ", "reply": {"text": "Step 1: six sevens are 42.\nFinal answer: 42\n"}}]
for t in titles:
    rules.append({"match": t, "reply": {"delay": 1.5, "text": "REVIEW-" + t.split()[0] + " fine."}})
script = {"rules": rules, "replies": [{"text": "Step 1: 6*7 = 41.\nFinal answer: 41\n"}]}
json.dump(script, open(sys.argv[1], "w"))
EOF
mkdir -p "$TMP/keydir"
printf '%s' "$KEY" >"$TMP/keydir/key"
"$PY" "$LRC_TESTDATA/mock_openai.py" "$TMP/script.json" "$TMP/port" "$TMP/mock.log" \
    "$TMP/keydir/key" 55 >"$TMP/mock.out" 2>&1 &
MOCK_PID=$!
wait_file "$TMP/port" 10 && sleep 0.1
check "the mock server is listening"
URL="http://127.0.0.1:$(cat "$TMP/port")"

STUDIO_ENV="XDG_STATE_HOME=$TMP/state XDG_CONFIG_HOME=$TMP/config LRC_API_KEY=$KEY" \
    start_studio 120 40 --endpoint "$URL" --model-name mock-model "$TMP/teacher"
wait_for 'teachers'
tmux -L "$sock" send-keys a
wait_for 'answers: teacher \(F3\)'
tmux -L "$sock" send-keys F3
wait_for 'method prcot \(F2\) +answers: endpoint \(F3\)'
check "F3 goes from the teacher to the endpoint"

tmux -L "$sock" send-keys -l "what is 6 * 7?"
tmux -L "$sock" send-keys Enter
wait_for '6 Synthesis · [0-9.]+s' 30
check "the synthesis pane ends with its seconds"
wait_for '^ answer: 42 +\([0-9.]+s\)' 10
check "the answer line shows the synthesis' answer, 42"
screen >"$TMP/ask"
grep -Eq "1 Chain of thought · [0-9.]+s" "$TMP/ask" && grep -q 'Final answer: 41' "$TMP/ask"
check "the chain-of-thought pane holds the endpoint's first attempt"
for title in 'Alternative solutions' 'Biases and ethics' 'Information completeness' \
    'Logical consistency'; do
    grep -Eq "[2-5] $title · [0-9.]+s" "$TMP/ask" &&
        grep -q "REVIEW-${title%% *} fine" "$TMP/ask"
    check "the '$title' pane holds its review and its seconds"
done
grep -q "endpoint: mock-model at $URL" "$TMP/ask"
check "the panes are labelled with the endpoint's model and URL"
# Each reflection waited 1.5 s; one after another they would take 6 s.
total=$(sed -n 's/^ answer: 42 *(\([0-9.]*\)s).*/\1/p' "$TMP/ask")
"$PY" -c "import sys; sys.exit(0 if 1.5 <= float('$total') < 4.5 else 1)"
check "the reflections ran concurrently (whole question ${total}s, 6 s in turn)"
[ "$(grep -c '"auth_ok": true' "$TMP/mock.log")" -eq 6 ] &&
    ! grep -q '"auth_ok": false' "$TMP/mock.log"
check "six requests reached the endpoint, each with the API key"

# The method switch: plain chain of thought.
tmux -L "$sock" send-keys F2
wait_for 'method cot \(F2\) +answers: endpoint'
tmux -L "$sock" send-keys -l "what is 6 * 7 again?"
tmux -L "$sock" send-keys Enter
wait_for '^ answer: 41 +\([0-9.]+s\)' 20
check "F2 cot: the chain of thought's answer, 41"
screen >"$TMP/cot"
! grep -q 'Synthesis' "$TMP/cot" && grep -Eq '1 Chain of thought · [0-9.]+s' "$TMP/cot"
check "cot fills one pane only"

# Side by side: the local teacher beside the endpoint.
tmux -L "$sock" send-keys F4
wait_for 'answers: endpoint \(F3\) beside student \(F4\)'
tmux -L "$sock" send-keys F4
wait_for 'answers: endpoint \(F3\) beside teacher \(F4\)'
check "F4 puts the student, then the teacher beside the endpoint"
tmux -L "$sock" send-keys -l "what is 6 * 7 once more?"
tmux -L "$sock" send-keys Enter
wait_for "teacher: .*/teacher" 10 && wait_for 'answer: 41 +\([0-9.]+s\) .*(answer: .*\([0-9.]+s\)|no answer)' 40
check "both sides answer: the endpoint's 41 beside the teacher"
screen >"$TMP/both"
[ "$(grep -o '1 Chain of thought · [0-9.]*s' "$TMP/both" | wc -l)" -eq 2 ]
check "each side has its chain of thought with its seconds"
tmux -L "$sock" send-keys Escape
tmux -L "$sock" send-keys q
wait_file "$TMP/studio.rc" 20 && [ "$(cat "$TMP/studio.rc")" = 0 ]
check "q quits with status 0"
screen >>"$TMP/ask"
! grep -q "$KEY" "$TMP/ask" "$TMP/cot" "$TMP/both" "$TMP/studio.err"
check "the API key is on no screen and not in stderr"

# config.json names the endpoint when no option does.
mkdir -p "$TMP/config/lrc"
printf '{"endpoint": "%s", "model_name": "mock-config"}\n' "$URL" >"$TMP/config/lrc/config.json"
STUDIO_ENV="XDG_STATE_HOME=$TMP/state XDG_CONFIG_HOME=$TMP/config LRC_API_KEY=$KEY" \
    start_studio 100 30 "$TMP/teacher"
wait_for 'teachers'
tmux -L "$sock" send-keys a F3 F2
wait_for 'method cot \(F2\) +answers: endpoint \(F3\)'
tmux -L "$sock" send-keys -l "six times seven?"
tmux -L "$sock" send-keys Enter
wait_for '^ answer: 41 +\([0-9.]+s\)' 20 && grep -q "endpoint: mock-config at $URL" "$TMP/screen"
check "config.json's endpoint and model_name answer like the options"
grep -q '"model": "mock-config"' "$TMP/mock.log"
check "the request names config.json's model"
tmux -L "$sock" send-keys Escape q
wait_file "$TMP/studio.rc" 20 && [ "$(cat "$TMP/studio.rc")" = 0 ]
check "q quits the second studio with status 0"

done_testing
