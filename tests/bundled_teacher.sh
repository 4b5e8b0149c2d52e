#!/bin/sh
# The bundled teacher (models/prcot-teacher-5m): an ordinary Hugging Face
# folder under 25 MB that `lrc info` reads. With greedy decoding it answers
# held-out arithmetic questions of the default curriculum (`lrc corpus`)
# with right numbers: every column step and every "So A op B = C."
# line is recomputed here. models/README.md shows the answers; 3 of the
# first 5 had right numbers when it was written, and those 3 repeated every
# sentence of their question right (the other two swap "doubles" and
# "triples"). `lrc eval` with plain chain of thought must stay within 3
# tasks of the arith and logic scores there (44/50 and 33/50). The margin
# is there because another thread count may break near-ties differently.
. "$LRC_TESTDATA/lib.sh"
teacher="$LRC_TESTDATA/../models/prcot-teacher-5m"
[ -f "$teacher/model.safetensors" ] || skip_all "no bundled teacher in $teacher"
PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "/usr/bin/python3 not found (run ./quickstart to install it)"

size=$(wc -c <"$teacher/model.safetensors")
[ "$size" -lt 25000000 ]
check "model.safetensors is under 25 MB ($size bytes)"
ok "lrc info reads the bundled teacher" "$LRC" info "$teacher"
grep -q 'LlamaForCausalLM' "$TMP/out"
check "lrc info names the Llama architecture"

ok "lrc corpus writes the default curriculum" "$LRC" corpus --out "$TMP/corpus"

# The first five held-out arithmetic tasks, one per line: question TAB answer.
"$PY" -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["family"] == "arith" and n < 5:
        print(t["question"] + "\t" + t["answer"]); n += 1' "$TMP/corpus/eval.jsonl" >"$TMP/arith"
[ "$(wc -l <"$TMP/arith")" -eq 5 ]
check "the held-out tasks hold five arithmetic questions"

# check_chain FILE ANSWER QUESTION: every "ones/tens/hundreds: X op Y = Z"
# line is right, every "So A op B = C." line is right, there is at least
# one, and the last line is "Final answer: ANSWER" (else exit 1). Exit 3
# when all of that is true but a "Step i: LABEL: A op B." line does not repeat a
# sentence of QUESTION in the question's order (nor is "NAME adds them"
# after a purchase of boxes): the numbers are right and the words are not.
cat >"$TMP/chain.py" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read().strip()
want = sys.argv[2]
sentences = [s[:-1].strip() for s in re.findall(r"[^.?]+[.?]", sys.argv[3])]
name = sys.argv[3].split()[0]
ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "×": lambda a, b: a * b}
steps = 0
last = -1
wording = ""
for line in text.splitlines():
    m = re.fullmatch(r"Step \d+: (.*): \d+ [-+×] \d+\.", line)
    if m and m.group(1) != name + " adds them" and not wording:
        if m.group(1) in sentences[last + 1:]:
            last = sentences.index(m.group(1), last + 1)
        else:
            wording = "step that names no later sentence of the question: " + line
    m = re.fullmatch(r"So (\d+) ([-+×]) (\d+) = (\d+)\.", line)
    if m:
        a, op, b, c = m.groups()
        if ops[op](int(a), int(b)) != int(c):
            sys.exit("wrong step: " + line)
        steps += 1
    m = re.fullmatch(r"\w+: ([\d+×-]+)=(\d+), write \d+.*", line)
    if m:
        expr, c = m.groups()
        if eval(expr.replace("×", "*")) != int(c):
            sys.exit("wrong column: " + line)
if steps == 0:
    sys.exit("no step line in: " + text)
if text.splitlines()[-1] != "Final answer: " + want:
    sys.exit("last line is not 'Final answer: %s': %s" % (want, text.splitlines()[-1]))
if wording:
    print(wording, file=sys.stderr)
    sys.exit(3)
PY

n=0
numbers=0
whole=0
while IFS="$(printf '\t')" read -r q a; do
    n=$((n + 1))
    # $(...) drops trailing line breaks, so the one after "assistant" is
    # added outside it.
    prompt="$(printf '<|im_start|>user\nQuestion: %s\n\nAnswer the question above. Think step by step: write each step of your\nreasoning on its own line. End with exactly one last line of the form\nFinal answer: <your answer>\n<|im_end|>\n<|im_start|>assistant' "$q")
"
    "$LRC" generate "$teacher" --prompt "$prompt" --temperature 0 -n 400 --threads 1 \
        >"$TMP/gen$n" 2>"$TMP/gen$n.err"
    rc=0
    "$PY" "$TMP/chain.py" "$TMP/gen$n" "$a" "$q" 2>"$TMP/chain$n.err" || rc=$?
    case $rc in
    0) whole=$((whole + 1)) numbers=$((numbers + 1))
       echo "# held-out question $n: right chain, answer $a" ;;
    3) numbers=$((numbers + 1))
       echo "# held-out question $n: numbers and answer $a right; $(cat "$TMP/chain$n.err")" ;;
    *) echo "# held-out question $n: $(cat "$TMP/chain$n.err")" ;;
    esac
    if [ "$n" -eq 1 ]; then
        [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]
        check "greedy generate answers held-out question 1 with right numbers ($a)"
    fi
done <"$TMP/arith"
[ "$numbers" -ge 3 ]
check "greedy generate gets the numbers of at least 3 of 5 held-out arithmetic chains right ($numbers)"
[ "$whole" -ge 1 ]
check "at least 1 of the 5 chains repeats every sentence of its question ($whole)"

# Plain chain of thought on the held-out arith and logic tasks.
"$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    if json.loads(line)["family"] in ("arith", "logic"):
        sys.stdout.write(line)' "$TMP/corpus/eval.jsonl" >"$TMP/al.jsonl"
ok "lrc eval runs chain of thought on the arith and logic tasks" \
    "$LRC" eval --model "$teacher" --tasks "$TMP/al.jsonl" --method cot --json
for family in arith logic; do
    "$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
cot = [m for m in r["methods"] if m["method"] == "cot"][0]
row = [f for f in cot["families"] if f["family"] == sys.argv[2]][0]
print(row["correct"], row["n"])
want = {"arith": 44, "logic": 33}[sys.argv[2]]
sys.exit(0 if row["n"] == 50 and row["correct"] >= want - 3 else 1)' "$TMP/out" "$family" >"$TMP/acc" 2>&1
    check "chain-of-thought score on $family stays near models/README.md's ($(cat "$TMP/acc"))"
done

done_testing
