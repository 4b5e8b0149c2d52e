#!/bin/sh
# lrc eval against tests/mock_openai.py with scripted answers for six tasks
# in two families (tests/data/prcot/). The expected accuracies and rates are
# worked out by hand below from the script, task by task:
#
#   task  expected  cot answer   reflect answer  prcot answer  prcot, biases left out
#   A1    4         4      ok    4      ok       **4.**  ok     ok
#   A2    9         6      no    6      no       9       ok     ok
#   A3    3         4      no    4      no       17      no     3  ok
#   L1    C         (C) car ok   C      ok       B       no     no
#   L2    (B)       B      ok    b      ok       Option B ok    ok
#   L3    A         (none) no    A      ok       (A)     ok     ok
#
# cot: 3/6 (arith 1/3, logic 2/3), one run without a final-answer line.
# reflect: 4/6 (arith 1/3, logic 3/3); initial (the CoT) 3/6; corrected 1 of
#   3 initially wrong (L3); regressed 0 of 3 initially right.
# prcot: 4/6 (arith 2/3, logic 2/3); initial 3/6; corrected 2 of 3 (A2, L3);
#   regressed 1 of 3 (L1). Per family: arith corrected 1/2, regressed 0/1;
#   logic corrected 1/1, regressed 1/2.
# ablation: 5/6 with biases-ethics left out, 4/6 with any other left out.
. "$LRC_TESTDATA/lib.sh"
. "$LRC_TESTDATA/mock_lib.sh"
DATA="$LRC_TESTDATA/data/prcot"

KEY="sk-eval-$$-$(date +%s)"
LRC_API_KEY=$KEY
export LRC_API_KEY
unset OPENAI_API_KEY
XDG_CONFIG_HOME="$TMP/config"
export XDG_CONFIG_HOME

usage_error() { # DESCRIPTION PATTERN ARGS...
    desc=$1
    pattern=$2
    shift 2
    "$LRC" eval "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -- "$pattern" "$TMP/err"
    check "$desc"
    [ $rc -eq 2 ] || echo "# exit $rc: $(cat "$TMP/err")"
}

ok "eval --help exits 0" "$LRC" eval --help
grep -q -- "--ablate" "$TMP/out" && grep -q -- "--tasks FILE" "$TMP/out"
check "eval --help lists --tasks and --ablate"
usage_error "no --tasks is a usage error" "missing --tasks" --endpoint http://127.0.0.1:9 \
    --model-name m
usage_error "an unknown method in the list" "unknown method 'tot'" --tasks "$DATA/tasks.jsonl" \
    --method cot,tot --endpoint http://127.0.0.1:9 --model-name m
usage_error "a method named twice" "names cot twice" --tasks "$DATA/tasks.jsonl" \
    --method cot,cot --endpoint http://127.0.0.1:9 --model-name m
usage_error "--limit 0" "--limit '0'" --tasks "$DATA/tasks.jsonl" --limit 0 \
    --endpoint http://127.0.0.1:9 --model-name m
usage_error "--ablate with one perspective" "--ablate needs at least two perspectives" \
    --tasks "$DATA/tasks.jsonl" --ablate --perspectives biases-ethics \
    --endpoint http://127.0.0.1:9 --model-name m

printf '{"question": "Q", "answer": "A", "family": "f"}\n{"question": "Q2"}\n' >"$TMP/bad.jsonl"
"$LRC" eval --tasks "$TMP/bad.jsonl" --endpoint http://127.0.0.1:9 --model-name m \
    >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "$TMP/bad.jsonl:2" "$TMP/err"
check "a bad task line: exit 1 and one line naming the file and line"

# --- every method, the ablation, and the JSON report -----------------------------
start_mock all "$DATA/eval_script.json"
"$LRC" eval --tasks "$DATA/tasks.jsonl" --endpoint "$URL" --model-name mock-model --method all \
    --ablate --json --progress >"$TMP/report.json" 2>"$TMP/report.err"
check "eval --method all --ablate --json exits 0"
"$PY" - "$TMP/report.json" "$URL" "$DATA/tasks.jsonl" <<'EOF' >"$TMP/report.check" 2>&1
import json, sys
r = json.load(open(sys.argv[1]))
failures = []
def expect(what, got, want):
    if got != want:
        failures.append("%s: got %r, want %r" % (what, got, want))
def near(what, got, want):
    if got is None or want is None:
        expect(what, got, want)
    elif abs(got - want) > 1e-9:
        failures.append("%s: got %r, want %r" % (what, got, want))

expect("schema", r["schema"], "lrc-eval/1")
expect("n_tasks", r["n_tasks"], 6)
expect("backend", r["backend"], {"kind": "http", "label": "mock-model at " + sys.argv[2]})
expect("without_final_answer", r["without_final_answer"],
       {"cot": 1, "reflect": 0, "prcot": 0, "ablation": 0})
methods = {m["method"]: m for m in r["methods"]}
expect("methods", [m["method"] for m in r["methods"]], ["cot", "reflect", "prcot"])

# (n, correct, {family: (n, correct)}, initial correct, corrected, regressed)
want = {
    "cot": (6, 3, {"arith": (3, 1), "logic": (3, 2)}, None, None, None),
    "reflect": (6, 4, {"arith": (3, 1), "logic": (3, 3)}, 3, 1, 0),
    "prcot": (6, 4, {"arith": (3, 2), "logic": (3, 2)}, 3, 2, 1),
}
for name, (n, correct, fams, init, corr, regr) in want.items():
    m = methods[name]
    expect(name + " n", m["n"], n)
    expect(name + " correct", m["correct"], correct)
    near(name + " accuracy", m["accuracy"], correct / n)
    got_fams = {f["family"]: (f["n"], f["correct"]) for f in m["families"]}
    expect(name + " families", got_fams, fams)
    if init is None:
        expect(name + " has no initial block", "initial" in m, False)
        continue
    expect(name + " initial", (m["initial"]["n"], m["initial"]["correct"]), (6, init))
    ec, rg = m["error_correction"], m["regression"]
    expect(name + " correction", (ec["count"], ec["denominator"]), (corr, 6 - init))
    near(name + " correction rate", ec["rate"], corr / (6 - init))
    expect(name + " regression", (rg["count"], rg["denominator"]), (regr, init))
    near(name + " regression rate", rg["rate"], regr / init)

abl = {a["left_out"]: (a["n"], a["correct"]) for a in r["ablation"]}
expect("ablation", abl, {"alternative-solutions": (6, 4), "biases-ethics": (6, 5),
                         "information-completeness": (6, 4), "logical-consistency": (6, 4)})
expect("ablation order", [a["left_out"] for a in r["ablation"]],
       ["alternative-solutions", "biases-ethics", "information-completeness",
        "logical-consistency"])
tr = r["task_results"]
tasks = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
expect("task_results questions", [t["question"] for t in tr], [t["question"] for t in tasks])
expect("task_results expected", [t["expected"] for t in tr], [t["answer"] for t in tasks])
expect("task_results families", [t["family"] for t in tr], [t["family"] for t in tasks])
for name, (n, correct, fams, init, corr, regr) in want.items():
    expect(name + " task results correct", sum(t["methods"][name]["correct"] for t in tr), correct)
    if init is not None:
        expect(name + " task results initial_correct",
               sum(t["methods"][name]["initial_correct"] for t in tr), init)
cot6 = tr[5]["methods"]["cot"]
expect("task 6 cot failed", (cot6["final"], "Final answer" in (cot6["error"] or "")), (None, True))
expect("prompt_too_long", r["prompt_too_long"], {"cot": 0, "reflect": 0, "prcot": 0, "ablation": 0})
print("\n".join(failures) if failures else "report ok")
EOF
[ "$(cat "$TMP/report.check")" = "report ok" ]
check "json: accuracies, correction and regression rates and the ablation as scripted"
grep -v '^report ok$' "$TMP/report.check" | sed 's/^/# /'
stop_mock

# 6 cot + 6*3 reflect + 6*6 prcot + 4 ablations * 6 tasks * 5 requests
[ "$(wc -l <"$LOG")" -eq 180 ]
check "log: 180 requests for every method and the ablation"
grep -q "^eval: prcot: task 6/6, accuracy 4/6 (66.7%)$" "$TMP/report.err"
check "progress: one line per task on stderr with --progress"
grep -q "^lrc: eval: $DATA/tasks.jsonl:6, cot: stage cot 'Chain of thought': the output has no \"Final answer:\" line.*; counted as wrong$" \
    "$TMP/report.err"
check "a chain of thought without an answer is reported and counted wrong"

# --- the text table -----------------------------------------------------------
start_mock table "$DATA/eval_script.json"
"$LRC" eval --tasks "$DATA/tasks.jsonl" --endpoint "$URL" --model-name mock-model \
    --method prcot,cot --limit 3 >"$TMP/table.out" 2>"$TMP/table.err"
check "eval --method prcot,cot --limit 3 exits 0"
stop_mock
# Over A1-A3: prcot is right on A1 and A2 (2/3), the chain of thought on A1
# only (1/3); A2 is corrected out of A2 and A3, and A1 does not regress.
awk '$1 == "prcot" && $2 == "all" {print $3, $4, $5, $6, $7, $8, $9, $10, $11}' \
    "$TMP/table.out" >"$TMP/row"
want="3 2 66.7% 1/3 (33.3%) 1/2 (50.0%) 0/1 (0.0%)"
[ "$(cat "$TMP/row")" = "$want" ]
check "table: the prcot row over three tasks"
[ "$(cat "$TMP/row")" = "$want" ] || sed 's/^/# got: /' "$TMP/row"
awk '$1 == "cot" && $2 == "all" {print $3, $4, $5, $6}' "$TMP/table.out" >"$TMP/row"
[ "$(cat "$TMP/row")" = "3 1 33.3% -" ]
check "table: the cot row has no initial answer"
[ "$(awk '$1 == "prcot" || $1 == "cot" {print $1}' "$TMP/table.out" | uniq | tr '\n' ' ')" = "prcot cot " ]
check "table: methods in the order given"
[ "$(wc -l <"$LOG")" -eq 21 ]
check "log: 3 tasks * (6 + 1) requests"
[ ! -s "$TMP/table.err" ]
check "no progress lines when stderr is not a terminal"

# --- task lines with empty or repeated fields; tasks from standard input --------
printf '{"question":"Q?","answer":"1","family":"f"}\n{"question":"  ","answer":"1","family":"f"}\n' \
    >"$TMP/blank.jsonl"
"$LRC" eval --tasks "$TMP/blank.jsonl" --endpoint http://127.0.0.1:1 --model-name m \
    >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "^lrc: eval: $TMP/blank.jsonl:2: field \"question\" is empty" "$TMP/err"
check "a blank question is an error naming the file and line"
printf '{"question":"Q?","answer":"1","answer":"2","family":"f"}\n' >"$TMP/dup.jsonl"
"$LRC" eval --tasks "$TMP/dup.jsonl" --endpoint http://127.0.0.1:1 --model-name m \
    >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && grep -q "$TMP/dup.jsonl:1: field \"answer\" appears 2 times" "$TMP/err"
check "a repeated field is an error naming the file and line"
"$LRC" eval --tasks - --endpoint http://127.0.0.1:1 --model-name m <"$TMP/blank.jsonl" \
    >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && grep -q "(standard input):2: field \"question\" is empty" "$TMP/err"
check "--tasks - reads standard input"

# --- a local model whose context the synthesis overflows -------------------------
# Short templates and two short perspectives: every stage fits the 256-token
# context of the test model except the synthesis, which holds three outputs
# of 80 tokens. Each such task counts as wrong and the evaluation goes on.
user_dir="$XDG_CONFIG_HOME/lrc/prompts/prcot"
mkdir -p "$user_dir"
printf 'title: Chain of thought\n\nQ: {{question}}\n' >"$user_dir/cot.txt"
printf 'title: Synthesis\n\nQ: {{question}}\nA: {{cot}}\n{{reflections}}\n' >"$user_dir/synthesize.txt"
for p in a b; do
    printf 'title: Aspect %s\n\nQ: {{question}}\nA: {{cot}}\n{{perspective}}\n' $p \
        >"$user_dir/perspective-$p.txt"
done
printf '{"question":"Q?","answer":"1","family":"f"}\n{"question":"R?","answer":"2","family":"\\u001b[31mred"}\n' \
    >"$TMP/local.jsonl"
model="$LRC_TESTDATA/reference/data/llama-f32"
"$LRC" eval --tasks "$TMP/local.jsonl" --model "$model" --max-tokens 80 --perspectives a,b \
    --method prcot,cot --show-tasks >"$TMP/local.out" 2>"$TMP/local.err"
rc=$?
[ $rc -eq 0 ] &&
    grep -q "^prcot: 2 runs with a prompt too long for the context, counted as wrong$" "$TMP/local.out" &&
    [ "$(grep -c "local.jsonl:[12], prcot: stage synthesis 'Synthesis': the prompt has [0-9]* tokens, which leaves no room in the model's context of 256 tokens; lower --max-tokens (now 80.*; counted as wrong$" "$TMP/local.err")" -eq 2 ]
check "local context: both tasks' synthesis is refused, counted wrong, and the report is printed"
[ $rc -eq 0 ] || sed 's/^/# /' "$TMP/local.err"
! grep -q "$(printf '\033')" "$TMP/local.out" && grep -q "^prcot    ?\[31mred " "$TMP/local.out"
check "table: a control byte in a family name is shown as ?"
grep -q "^$TMP/local.jsonl:2  R?$" "$TMP/local.out" && grep -q "^  expected: 2$" "$TMP/local.out" &&
    grep -q "^  prcot    wrong final: -  (initial: -, wrong)  \[failed: stage synthesis" "$TMP/local.out" &&
    grep -q "^  cot      wrong final: -  \[failed: stage cot 'Chain of thought': the output was cut short after 80 tokens" "$TMP/local.out"
check "--show-tasks lists each task's expected answer and each method's outcome"
"$LRC" eval --tasks "$TMP/local.jsonl" --model "$model" --max-tokens 80 --perspectives a,b \
    --json >"$TMP/local.json" 2>/dev/null
rc=$?
"$PY" - "$TMP/local.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["prompt_too_long"] == {"prcot": 2}, r["prompt_too_long"]
assert [t["expected"] for t in r["task_results"]] == ["1", "2"]
for t in r["task_results"]:
    p = t["methods"]["prcot"]
    assert p["correct"] is False and p["final"] is None and "leaves no room" in p["error"], p
EOF
[ $? -eq 0 ] && [ $rc -eq 0 ]
check "json: prompt_too_long counts and task_results carry the reason"
rm -f "$user_dir/cot.txt" "$user_dir/synthesize.txt" "$user_dir/perspective-a.txt" \
    "$user_dir/perspective-b.txt"
usage_error "--method all,cot says all stands alone" "all stands alone" \
    --tasks "$TMP/local.jsonl" --model "$model" --method all,cot
usage_error "--perspectives without prcot is a usage error" \
    "--perspectives applies to the prcot method and --ablate only" \
    --tasks "$TMP/local.jsonl" --model "$model" --method cot --perspectives a

# --- a backend failure stops the evaluation --------------------------------------
"$LRC" eval --tasks "$DATA/tasks.jsonl" --endpoint "$URL" --model-name mock-model \
    >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
    grep -q "tasks.jsonl:1, prcot: stage cot 'Chain of thought': $URL" "$TMP/err"
check "unreachable endpoint: exit 1 and one line naming the task, method and stage"

grep -rqF "$KEY" "$TMP"
[ $? -ne 0 ]
check "the key appears in no file under the test folder"

done_testing
