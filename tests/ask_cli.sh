#!/bin/sh
# lrc ask against tests/mock_openai.py on 127.0.0.1: usage errors, the text
# and JSON output of a scripted PR-CoT run, the request log, the one-line
# errors for broken templates and a synthesis without a final answer, and a
# search of every output for the API key.
. "$LRC_TESTDATA/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "/usr/bin/python3 not found (run ./quickstart to install it)"

KEY="sk-ask-$$-$(date +%s)"
LRC_API_KEY=$KEY
export LRC_API_KEY
unset OPENAI_API_KEY
# An empty user folder, so only the shipped templates are found.
XDG_CONFIG_HOME="$TMP/config"
export XDG_CONFIG_HOME
mkdir -p "$XDG_CONFIG_HOME"
MOCK_PID=

# start_mock NAME SCRIPT: run the mock with SCRIPT; sets URL and LOG.
start_mock() {
    rm -f "$TMP/$1.port"
    mkdir -p "$TMP/keydir"
    printf '%s' "$KEY" >"$TMP/keydir/key"
    "$PY" "$LRC_TESTDATA/mock_openai.py" "$2" "$TMP/$1.port" "$TMP/$1.log" \
        "$TMP/keydir/key" 60 >"$TMP/$1.mock" 2>&1 &
    MOCK_PID=$!
    i=0
    while [ ! -s "$TMP/$1.port" ] && [ $i -lt 500 ]; do
        sleep 0.01
        i=$((i + 1))
    done
    rm -rf "$TMP/keydir"
    URL="http://127.0.0.1:$(cat "$TMP/$1.port" 2>/dev/null)"
    LOG="$TMP/$1.log"
}

stop_mock() {
    if [ -n "$MOCK_PID" ]; then
        kill "$MOCK_PID" 2>/dev/null
        wait "$MOCK_PID" 2>/dev/null
        MOCK_PID=
    fi
}
trap 'stop_mock; rm -rf "$TMP"' EXIT

# usage_error DESCRIPTION PATTERN ARGS...: exit 2 and one stderr line matching PATTERN.
usage_error() {
    desc=$1
    pattern=$2
    shift 2
    "$LRC" ask "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -- "$pattern" "$TMP/err"
    check "$desc"
    [ $rc -eq 2 ] || echo "# exit $rc: $(cat "$TMP/err")"
}

# The scripted run: the synthesis is the only prompt with "## " headings,
# each perspective prompt names its title, the chain of thought gets the
# fallback reply.
write_script() { # FILE SYNTHESIS-TEXT
    "$PY" - "$1" "$2" <<'EOF'
import json, sys
titles = ["Alternative solutions", "Biases and ethics", "Information completeness",
          "Logical consistency"]
rules = [{"match": "## ", "reply": {"text": sys.argv[2]}}]
for t in titles:
    rules.append({"match": t, "reply": {"text": "REVIEW of " + t + ": fine."}})
script = {"rules": rules, "replies": [{"text": "Step 1: 6*7 = 41.\nFinal answer: 41\n"}]}
json.dump(script, open(sys.argv[1], "w"))
EOF
}

ok "ask --help exits 0" "$LRC" ask --help
grep -q -- "--endpoint URL" "$TMP/out" && grep -q -- "--perspectives LIST" "$TMP/out"
check "ask --help lists --endpoint and --perspectives"

usage_error "no question is a usage error" "missing QUESTION" --endpoint http://127.0.0.1:9 \
    --model-name m
usage_error "no backend is a usage error" "pass --model PATH or --endpoint URL" "Q?"
usage_error "--endpoint without --model-name" "needs --model-name" --endpoint http://127.0.0.1:9 "Q?"
usage_error "--model-name without --endpoint" "needs --endpoint" --model /x --model-name m "Q?"
usage_error "a bad URL is a usage error" "expected an http:// or https:// URL" \
    --endpoint ftp://127.0.0.1:9 --model-name m "Q?"
usage_error "--model and --endpoint together" "both given" --model /x \
    --endpoint http://127.0.0.1:9 --model-name m "Q?"
usage_error "an unknown method" "expected cot, reflect or prcot" --method tot \
    --endpoint http://127.0.0.1:9 --model-name m "Q?"
usage_error "an unknown perspective lists the available ones" \
    "unknown perspective 'tone'; available: alternative-solutions, biases-ethics" \
    --perspectives tone --endpoint http://127.0.0.1:9 --model-name m "Q?"
usage_error "a negative temperature" "--temperature '-1'" --temperature -1 \
    --endpoint http://127.0.0.1:9 --model-name m "Q?"
usage_error "--parallel 0" "--parallel '0': expected an integer from 1 to 64" --parallel=0 \
    --endpoint http://127.0.0.1:9 --model-name m "Q?"
usage_error "an unknown option" "unknown option '--bogus'" --bogus "Q?"

# --- a scripted PR-CoT run in text mode ---------------------------------------
write_script "$TMP/good.json" "Step 1: 6*7 = 42.
**Final answer: 42**"
start_mock good "$TMP/good.json"
"$LRC" ask --endpoint "$URL" --model-name mock-model "What is 6*7?" >"$TMP/text.out" \
    2>"$TMP/text.err"
check "ask prcot over the endpoint exits 0"
grep '^== ' "$TMP/text.out" >"$TMP/headings"
printf '%s\n' "== Chain of thought ==" "== Alternative solutions ==" "== Biases and ethics ==" \
    "== Information completeness ==" "== Logical consistency ==" "== Synthesis ==" >"$TMP/want"
cmp -s "$TMP/headings" "$TMP/want"
check "text: six stage headings in stage order"
[ "$(tail -n 1 "$TMP/text.out")" = "Final answer: 42" ]
check "text: the last line is the final answer"
awk '/^== Biases and ethics ==$/ {getline; print; exit}' "$TMP/text.out" >"$TMP/line"
[ "$(cat "$TMP/line")" = "REVIEW of Biases and ethics: fine." ]
check "text: each reflection's text under its own heading"
[ "$(grep -c '^([0-9]*\.[0-9][0-9] s, [0-9]* tokens*)$' "$TMP/text.out")" -eq 6 ]
check "text: a seconds and tokens line per stage"
[ ! -s "$TMP/text.err" ]
check "text: nothing on stderr"

# --- the same run as JSON, with the question on stdin -------------------------
echo "What is 6*7?" | "$LRC" ask --endpoint "$URL" --model-name mock-model --json - \
    >"$TMP/run.json" 2>"$TMP/json.err"
check "ask --json with the question on stdin exits 0"
"$PY" - "$TMP/run.json" "$URL" <<'EOF' >"$TMP/json.check" 2>&1
import json, sys
r = json.load(open(sys.argv[1]))
assert r["method"] == "prcot", r["method"]
assert r["backend"] == {"kind": "http", "label": "mock-model at " + sys.argv[2]}, r["backend"]
assert r["question"] == "What is 6*7?", r["question"]
names = [s["name"] for s in r["stages"]]
assert names == ["cot", "perspective-alternative-solutions", "perspective-biases-ethics",
                 "perspective-information-completeness", "perspective-logical-consistency",
                 "synthesize"], names
kinds = [s["kind"] for s in r["stages"]]
assert kinds == ["cot"] + ["reflection"] * 4 + ["synthesis"], kinds
assert r["stages"][0]["text"] == "Step 1: 6*7 = 41.\nFinal answer: 41\n"
assert r["stages"][2]["text"] == "REVIEW of Biases and ethics: fine."
assert r["stages"][2]["title"] == "Biases and ethics"
assert "What is 6*7?" in r["stages"][0]["prompt"]
assert "Biases and ethics" in r["stages"][2]["prompt"]
assert "REVIEW of Logical consistency: fine." in r["stages"][5]["prompt"]
# The mock streams one piece per word: "REVIEW of Biases and ethics: fine." is 6.
assert r["stages"][2]["tokens"] == 6, r["stages"][2]["tokens"]
assert all(s["seconds"] >= 0 and s["truncated"] is False for s in r["stages"])
assert r["initial_answer"] == "41", r["initial_answer"]
assert r["final_answer"] == "42", r["final_answer"]
assert r["seconds"] >= r["reflections_seconds"] > 0
print("json ok")
EOF
check "json: stages, answers, backend and timings as scripted"
grep -v '^json ok$' "$TMP/json.check" | sed 's/^/# /'

"$LRC" ask --endpoint "$URL/v1/" --model-name mock-model --method cot "What is 6*7?" \
    >"$TMP/cot.out" 2>&1
check "ask --method cot with a /v1/ base URL exits 0"
[ "$(grep -c '^== ' "$TMP/cot.out")" -eq 1 ] && [ "$(tail -n 1 "$TMP/cot.out")" = "Final answer: 41" ]
check "cot: one stage, and its answer is final"
stop_mock

"$PY" - "$LOG" <<'EOF' >"$TMP/log.check" 2>&1
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
assert len(log) == 13, len(log)          # 6 + 6 + 1 requests
assert all(e["auth_ok"] for e in log), "a request without the bearer key"
assert all(e["path"] == "/v1/chat/completions" for e in log)
def user(e):
    return e["body"]["messages"][-1]["content"]
first = log[:6]
assert "Answer the question above" in user(first[0])
assert sorted(user(e).count("Review the first attempt") for e in first[1:5]) == [1] * 4
assert "Reviews of the first attempt" in user(first[5])
print("log ok")
EOF
check "log: 13 requests, each with the bearer key, stages in order"
grep -v '^log ok$' "$TMP/log.check" | sed 's/^/# /'

# --- a synthesis without a final-answer line ----------------------------------
write_script "$TMP/noanswer.json" "The product is probably large."
start_mock noanswer "$TMP/noanswer.json"
"$LRC" ask --endpoint "$URL" --model-name mock-model "What is 6*7?" >"$TMP/na.out" 2>"$TMP/na.err"
rc=$?
stop_mock
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/na.err")" -eq 1 ] &&
    grep -q "^lrc: ask: stage synthesis 'Synthesis': the output has no \"Final answer:\" line" \
        "$TMP/na.err"
check "no final-answer line: exit 1 and one line naming the synthesis stage"
grep -q "^== Synthesis ==" "$TMP/na.out"
check "no final-answer line: the stages are still shown"

# --- broken templates in the user folder ----------------------------------------
write_script "$TMP/plain.json" "Final answer: 42"
start_mock templates "$TMP/plain.json"
user_dir="$XDG_CONFIG_HOME/lrc/prompts/prcot"
mkdir -p "$user_dir"
printf 'title: Logical consistency\n\nQuestion: {{question}}\nCheck {{bogus}} now.\n' \
    >"$user_dir/perspective-logical-consistency.txt"
"$LRC" ask --endpoint "$URL" --model-name mock-model "Q?" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "$user_dir/perspective-logical-consistency.txt:4: unknown placeholder {{bogus}}" \
        "$TMP/err"
check "unknown placeholder: exit 1 and one line naming the file and line"
rm "$user_dir/perspective-logical-consistency.txt"

ln -s "$TMP/nowhere.txt" "$user_dir/perspective-ghost.txt"
"$LRC" ask --endpoint "$URL" --model-name mock-model "Q?" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "perspective-ghost.txt: template not found (searched $user_dir" "$TMP/err"
check "missing template file: exit 1 and one line naming the file"
rm "$user_dir/perspective-ghost.txt"

printf 'title: Synthesis\n\n{{question}} seen as {{perspective}}\n' >"$user_dir/synthesize.txt"
"$LRC" ask --endpoint "$URL" --model-name mock-model "Q?" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "stage synthesis 'Synthesis': $user_dir/synthesize.txt:3: placeholder {{perspective}} has no value" \
        "$TMP/err"
check "placeholder without a value: exit 1 and one line naming stage, file and line"
rm "$user_dir/synthesize.txt"
stop_mock
[ "$(wc -l <"$LOG")" -eq 5 ]
check "templates: load errors stop before any request (5 requests, all from the last run)"

# --- an endpoint that is not there ----------------------------------------------
"$LRC" ask --endpoint "$URL" --model-name mock-model "Q?" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "stage cot 'Chain of thought': $URL/v1/chat/completions:" "$TMP/err"
check "unreachable endpoint: exit 1 and one line naming the stage and URL"

# --- a local model --------------------------------------------------------------
# The tiny random model of the golden tests writes no final-answer line, so a
# greedy cot run reaches the local backend and fails on the answer.
model="$LRC_TESTDATA/reference/data/llama-f32"
"$LRC" ask --model "$model" --method cot --max-tokens 4 "Q?" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "stage cot 'Chain of thought': the output has no \"Final answer:\" line" "$TMP/err" &&
    grep -q "^(0\.[0-9]* s, 4 tokens, truncated)$" "$TMP/out"
check "local model: the chain of thought runs, 4 tokens, then the missing answer is reported"
"$LRC" ask --model "$TMP/no-model" "Q?" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "$TMP/no-model" "$TMP/err"
check "local model: a missing model folder is one line naming it"

# --- the key never leaves the bearer header -------------------------------------
cat "$TMP"/*.out "$TMP"/*.err "$TMP"/*.json "$TMP"/*.log "$TMP"/*.mock >"$TMP/everything" 2>/dev/null
grep -q "$KEY" "$TMP/everything"
[ $? -ne 0 ]
check "the key appears in no output, error, log or file"
grep -rqF "$KEY" "$TMP"
[ $? -ne 0 ]
check "the key appears in no file under the test folder"

done_testing
