#!/bin/sh
# lrc corpus through the binary. One seed gives byte-identical files and
# another seed different ones. No held-out question occurs inside any
# training text, every document has the ChatML shape, cot documents end in a
# final-answer line, and the planted-mistake share is counted from the
# synthesis documents themselves and compared with the option and with
# corpus.json. Bad options, a non-empty folder and an unknown perspective get
# one-line errors. The file checks parse JSON with /usr/bin/python3.
. "${LRC_TESTDATA:-$(dirname "$0")}/lib.sh"

PY=/usr/bin/python3

# one_line FILE: true when the file has exactly one line.
one_line() {
    [ "$(wc -l <"$1")" -eq 1 ]
}

ok "corpus --help exits 0" "$LRC" corpus --help
grep -q -- "--episode-fraction" "$TMP/out"
check "corpus --help lists --episode-fraction"

ok "corpus writes a small corpus" "$LRC" corpus --out "$TMP/a" --seed 7 --size 600 --eval-size 20
grep -q "documents" "$TMP/out"
check "corpus prints a summary"
ok "corpus same seed again" "$LRC" corpus --out "$TMP/b" --seed 7 --size 600 --eval-size 20
ok "corpus another seed" "$LRC" corpus --out "$TMP/c" --seed 8 --size 600 --eval-size 20
for f in train.jsonl eval.jsonl corpus.json; do
    cmp -s "$TMP/a/$f" "$TMP/b/$f"
    check "same seed gives identical $f"
done
! cmp -s "$TMP/a/train.jsonl" "$TMP/c/train.jsonl"
check "another seed gives another train.jsonl"
! cmp -s "$TMP/a/eval.jsonl" "$TMP/c/eval.jsonl"
check "another seed gives another eval.jsonl"
[ -z "$(ls -A "$TMP/a" | grep -v -e '^train.jsonl$' -e '^eval.jsonl$' -e '^corpus.json$')" ]
check "no temporary file left behind"

# A larger corpus for the share of planted mistakes.
ok "corpus with --mistake-fraction 0.4" "$LRC" corpus --out "$TMP/m" --seed 3 --size 4000 \
    --episode-fraction 0.5 --mistake-fraction 0.4

if [ -x "$PY" ]; then
    cat >"$TMP/check.py" <<'PYEOF'
import json, re, sys

folder, want_mistakes = sys.argv[1], float(sys.argv[2])
PREFIX = "<|im_start|>user\n"
ASSIST = "<|im_start|>assistant\n"
docs = [json.loads(line)["text"] for line in open(folder + "/train.jsonl", encoding="utf-8")]
tasks = [json.loads(line) for line in open(folder + "/eval.jsonl", encoding="utf-8")]
meta = json.load(open(folder + "/corpus.json", encoding="utf-8"))
failed = []

def check(cond, name):
    if not cond:
        failed.append(name)

def final_answer(text):
    lines = [l for l in text.split("\n") if l.startswith("Final answer: ")]
    return lines[-1][len("Final answer: "):] if lines else None

check(all(d.startswith(PREFIX) for d in docs), "every document starts with the user turn")
check(all(d.count(ASSIST) == 1 for d in docs), "exactly one assistant turn")
check(all(d.count("<|im_start|>") == 2 for d in docs), "exactly two turns")
check(all(not d.endswith("<|im_end|>") and d.count("<|im_end|>") == 1 for d in docs),
      "only the user turn is closed")

train = "\n".join(docs)
leaked = [t["question"] for t in tasks if t["question"] in train]
check(not leaked, "no held-out question in the training text: %r" % leaked[:1])

families = {"arith", "commonsense", "ethics", "logic"}
check({t["family"] for t in tasks} == families, "eval.jsonl has the four families")
check(len({t["question"] for t in tasks}) == len(tasks), "held-out questions are distinct")
check(all(isinstance(t["answer"], str) and t["answer"] for t in tasks), "every answer is set")

cot = [d for d in docs if "Think step by step" in d.split(ASSIST)[0]]
check(cot and all(final_answer(d.split(ASSIST)[1]) for d in cot), "cot replies end in a final answer")
check(all(d.split(ASSIST)[1].split("\n")[-1].startswith("Final answer: ") for d in cot),
      "the final answer is the last line")

syn = [d for d in docs if "Reviews of the first attempt:" in d.split(ASSIST)[0]]
wrong = 0
for d in syn:
    user, reply = d.split(ASSIST)
    attempt = user.split("First attempt:\n")[1].split("\n\nReviews of the first attempt:")[0]
    if final_answer(attempt) != final_answer(reply):
        wrong += 1
share = wrong / len(syn) if syn else -1
check(abs(share - want_mistakes) <= 0.02, "planted-mistake share %.3f near %.3f" % (share, want_mistakes))

fam = meta["families"]
check(sum(f["documents"]["cot"] for f in fam.values()) == len(cot), "corpus.json cot count")
check(sum(f["documents"]["synthesize"] for f in fam.values()) == len(syn), "corpus.json synthesis count")
check(sum(f["mistakes"] for f in fam.values()) == wrong, "corpus.json mistake count")
check(meta["documents"] == len(docs), "corpus.json document count")
for name in failed:
    print(name)
sys.exit(1 if failed else 0)
PYEOF
    ok "small corpus: documents, held-out split, counts" "$PY" "$TMP/check.py" "$TMP/a" 0.2
    ok "larger corpus: mistake share within 0.02" "$PY" "$TMP/check.py" "$TMP/m" 0.4
else
    echo "# /usr/bin/python3 not found: file contents not checked"
fi

# Usage errors: exit 2 and one line on stderr.
for args in "--size 0" "--size ten" "--episode-fraction 1.5" "--mistake-fraction -0.1" \
    "--seed -3" "--bogus 1" "--size"; do
    # shellcheck disable=SC2086
    "$LRC" corpus --out "$TMP/u" $args >"$TMP/out" 2>"$TMP/err"
    [ $? -eq 2 ] && one_line "$TMP/err" && [ ! -e "$TMP/u" ]
    check "corpus $args: usage error in one line"
done
"$LRC" corpus --size 10 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && one_line "$TMP/err" && grep -q -- "--out" "$TMP/err"
check "corpus without --out: usage error naming --out"

# A non-empty folder is refused and left as it was.
mkdir "$TMP/full" && echo keep >"$TMP/full/notes.txt"
"$LRC" corpus --out "$TMP/full" --size 10 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "$TMP/err" && grep -q "not empty" "$TMP/err"
check "corpus into a non-empty folder: one-line error"
[ "$(ls "$TMP/full")" = "notes.txt" ]
check "the non-empty folder is left as it was"

"$LRC" corpus --out "$TMP/missing/sub" --size 10 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "$TMP/err"
check "corpus under a missing parent: one-line error"

# A perspective template the generator has no reflections for stops it
# before any file is written, and the folder it made is removed.
mkdir -p "$TMP/xdg/lrc/prompts/prcot"
printf 'title: Extra view\n\nQuestion: {{question}}\n{{cot}}\n' \
    >"$TMP/xdg/lrc/prompts/prcot/perspective-extra-view.txt"
XDG_CONFIG_HOME="$TMP/xdg" "$LRC" corpus --out "$TMP/x" --size 10 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && one_line "$TMP/err" && grep -q "perspective-extra-view" "$TMP/err"
check "corpus with an unknown perspective: one-line error naming it"
[ ! -e "$TMP/x" ]
check "the folder it created is removed again"

done_testing
