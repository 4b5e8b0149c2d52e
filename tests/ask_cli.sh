#!/bin/sh
# lrc ask against tests/mock_openai.py on 127.0.0.1: usage errors, the text
# and JSON output of a scripted PR-CoT run, the request log, the one-line
# errors for broken templates and a synthesis without a final answer, and a
# search of every output for the API key.
. "$LRC_TESTDATA/lib.sh"
. "$LRC_TESTDATA/mock_lib.sh"

KEY="sk-ask-$$-$(date +%s)"
LRC_API_KEY=$KEY
export LRC_API_KEY
unset OPENAI_API_KEY
# An empty user folder, so only the shipped templates are found.
XDG_CONFIG_HOME="$TMP/config"
export XDG_CONFIG_HOME
mkdir -p "$XDG_CONFIG_HOME"

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
    grep -q "^lrc: ask: $user_dir/synthesize.txt:3: placeholder {{perspective}} has no value in the synthesize stage" \
        "$TMP/err"
check "placeholder without a value in its stage: caught at load, one line naming file and line"
rm "$user_dir/synthesize.txt"
stop_mock
[ "$(wc -l <"$LOG")" -eq 0 ]
check "templates: load errors stop before any request (no request logged)"

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
    grep -q "stage cot 'Chain of thought': the output was cut short after 4 tokens, before its \"Final answer:\" line; raise --max-tokens" "$TMP/err" &&
    grep -q "^(0\.[0-9]* s, 4 tokens, truncated)$" "$TMP/out"
check "local model: the chain of thought runs, 4 tokens, then the missing answer is reported"
"$LRC" ask --model "$TMP/no-model" "Q?" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "$TMP/no-model" "$TMP/err"
check "local model: a missing model folder is one line naming it"

# --- Ctrl-C during endpoint waits ----------------------------------------------
now_ms() { date +%s%3N; }
# interrupt_after_1s NAME ARGS...: run ask in the background, send SIGINT after
# 1 s; sets rc and ms (time from the signal to the exit).
interrupt_after_1s() {
    name=$1
    shift
    "$LRC" ask "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    pid=$!
    sleep 1
    t0=$(now_ms)
    kill -INT $pid
    wait $pid
    rc=$?
    ms=$(($(now_ms) - t0))
}
printf '{"replies":[{"delay":30}]}' >"$TMP/silent.json"
start_mock silent "$TMP/silent.json"
interrupt_after_1s int-silent --endpoint "$URL" --model-name mock-model "Q?"
[ $rc -eq 130 ] && [ $ms -lt 1800 ] && grep -q "stopped by interrupt" "$TMP/int-silent.err"
check "Ctrl-C while the server sends nothing: exit 130 ${ms} ms after the signal"
stop_mock
printf '{"replies":[{"chunks":["data: {\\"choices\\":[{\\"delta\\":{\\"content\\":\\"Hi\\"}}]}\\n\\n"],"stall":30}]}' >"$TMP/stall.json"
start_mock stall "$TMP/stall.json"
interrupt_after_1s int-stall --endpoint "$URL" --model-name mock-model "Q?"
[ $rc -eq 130 ] && [ $ms -lt 1800 ]
check "Ctrl-C while the stream stalls: exit 130 ${ms} ms after the signal"
stop_mock
printf '{"replies":[{"status":429,"headers":{"Retry-After":"3600"},"body":{"error":{"message":"slow down"}}}]}' >"$TMP/busy.json"
start_mock busy "$TMP/busy.json"
interrupt_after_1s int-busy --endpoint "$URL" --model-name mock-model "Q?"
[ $rc -eq 130 ] && [ $ms -lt 1800 ]
check "Ctrl-C while waiting to retry a 429: exit 130 ${ms} ms after the signal"
grep -q "^lrc: ask: $URL/v1/chat/completions: HTTP 429 on attempt 1 of 4; retrying in 30 s (the server asked for 3600 s; waits are capped at 30 s)$" \
    "$TMP/int-busy.err"
check "a retry is announced on stderr with its wait and the cap"
stop_mock

# --- --timeout -------------------------------------------------------------------
start_mock stall2 "$TMP/stall.json"
t0=$(now_ms)
"$LRC" ask --endpoint "$URL" --model-name mock-model --timeout 1 "Q?" >"$TMP/out" 2>"$TMP/err"
rc=$?
ms=$(($(now_ms) - t0))
[ $rc -eq 1 ] && [ $ms -lt 4000 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "the stream stalled: no bytes for 1 s.*--timeout SECONDS" "$TMP/err"
check "--timeout 1 ends a stalled stream after about 1 s (${ms} ms)"
stop_mock
usage_error "--timeout 0 is a usage error" "--timeout '0': expected a number of seconds" \
    --endpoint http://127.0.0.1:1 --model-name m --timeout 0 "Q?"
usage_error "--timeout needs --endpoint" "--timeout applies to --endpoint only" \
    --model /nowhere --timeout 5 "Q?"

# --- secrets in the URL and the key ---------------------------------------------
"$LRC" ask --endpoint "http://bob:sk-SECRET-pw@127.0.0.1:1/v1?api_key=QSECRET" \
    --model-name m "Q?" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && ! grep -q "SECRET\|bob" "$TMP/err" &&
    grep -q "http://127.0.0.1:1/v1/chat/completions?\.\.\." "$TMP/err"
check "an unreachable endpoint's error shows no user:password and no query string"
usage_error "port 99999 is a usage error" "port '99999' is not a number from 1 to 65535" \
    --endpoint "http://bob:sk-SECRET-pw@127.0.0.1:99999" --model-name m "Q?"
! grep -q "SECRET" "$TMP/err"
check "the port error leaves the password out"
usage_error "a question that is not UTF-8 is a usage error naming the byte" \
    "the question is not valid UTF-8 at byte offset 2" \
    --endpoint http://127.0.0.1:1 --model-name m "$(printf 'ab\377c')"
usage_error "--model= (empty) is a usage error" "option '--model' has an empty value" \
    --model= "Q?"
usage_error "a question of white space is a usage error" \
    "the question is empty or only white space" \
    --endpoint http://127.0.0.1:1 --model-name m "   "
usage_error "--perspectives with --method cot is a usage error" \
    "--perspectives applies to --method prcot only" \
    --endpoint http://127.0.0.1:1 --model-name m --method cot --perspectives biases-ethics "Q?"
start_mock injected "$TMP/silent.json"
LRC_API_KEY="abc-KEYTEXT
X-Injected: 1" "$LRC" ask --endpoint "$URL" --model-name m "Q?" >"$TMP/out" 2>"$TMP/err"
rc=$?
stop_mock
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "LRC_API_KEY has a control byte at offset 11" "$TMP/err" &&
    ! grep -q "KEYTEXT\|Injected" "$TMP/err" && [ ! -s "$TMP/injected.log" ]
check "a key with a line break: exit 1, one line without the key, no request sent"

# --- {{reflection}} where it has no value, a folder for a template ----------------
start_mock reflection "$TMP/silent.json"
printf 'title: Synthesis\n\n{{question}} {{reflection}}\n' >"$user_dir/synthesize.txt"
"$LRC" ask --endpoint "$URL" --model-name mock-model "Q?" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "$user_dir/synthesize.txt: {{reflection}} has a value only when one reflection runs.*this run has 4" "$TMP/err"
check "{{reflection}} in synthesize.txt with four perspectives fails before any request"
rm "$user_dir/synthesize.txt"
printf 'title: Odd\n\n{{question}} {{reflection}}\n' >"$user_dir/perspective-odd.txt"
"$LRC" ask --endpoint "$URL" --model-name mock-model "Q?" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "$user_dir/perspective-odd.txt:3: placeholder {{reflection}} has no value in the perspective-odd stage" "$TMP/err"
check "{{reflection}} in a perspective file is a load error naming file and line"
rm "$user_dir/perspective-odd.txt"
mkdir "$user_dir/cot.txt"
"$LRC" ask --endpoint "$URL" --model-name mock-model "Q?" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && grep -q "$user_dir/cot.txt: is a folder; expected a template file" "$TMP/err"
check "a folder named cot.txt is reported as a folder"
rmdir "$user_dir/cot.txt"
stop_mock
[ ! -s "$TMP/reflection.log" ]
check "template checks: no request reached the server"

# --- a local model whose context the synthesis overflows -------------------------
# Short templates and two short perspectives: every stage fits the 256-token
# context of the test model except the synthesis, which holds three outputs
# of 80 tokens.
printf 'title: Chain of thought\n\nQ: {{question}}\n' >"$user_dir/cot.txt"
printf 'title: Synthesis\n\nQ: {{question}}\nA: {{cot}}\n{{reflections}}\n' >"$user_dir/synthesize.txt"
for p in a b; do
    printf 'title: Aspect %s\n\nQ: {{question}}\nA: {{cot}}\n{{perspective}}\n' $p \
        >"$user_dir/perspective-$p.txt"
done
"$LRC" ask --model "$model" --max-tokens 80 --perspectives a,b --json "Q?" \
    >"$TMP/ctx.json" 2>"$TMP/ctx.err"
rc=$?
[ $rc -eq 1 ] &&
    grep -q "^lrc: ask: warning: the synthesis prompt may reach [0-9]* tokens (3 stages of up to 80 tokens before it), more than the model's context of 256.*--max-tokens [0-9]* or less" "$TMP/ctx.err" &&
    grep -q "^lrc: ask: stage synthesis 'Synthesis': the prompt has [0-9]* tokens, which leaves no room in the model's context of 256 tokens; lower --max-tokens (now 80" "$TMP/ctx.err"
check "local context: a warning first, then the synthesis is refused with what to change"
"$PY" - "$TMP/ctx.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert [s["kind"] for s in d["stages"]] == ["cot", "reflection", "reflection"], d["stages"]
assert d["final_answer"] is None and "leaves no room" in d["error"], d
EOF
check "--json on failure: the three finished stages, final_answer null and the error"
rm -f "$user_dir/cot.txt" "$user_dir/synthesize.txt" "$user_dir/perspective-a.txt" \
    "$user_dir/perspective-b.txt"

# --- the key never leaves the bearer header -------------------------------------
cat "$TMP"/*.out "$TMP"/*.err "$TMP"/*.json "$TMP"/*.log "$TMP"/*.mock >"$TMP/everything" 2>/dev/null
grep -q "$KEY" "$TMP/everything"
[ $? -ne 0 ]
check "the key appears in no output, error, log or file"
grep -rqF "$KEY" "$TMP"
[ $? -ne 0 ]
check "the key appears in no file under the test folder"

done_testing
