#!/bin/sh
# lrc tokenizer train through the binary. A folder of .jsonl and .txt files
# gives a tokenizer that lrc tokenize loads and that round-trips text, and the
# same input gives the same files. Each error (bad --vocab, missing data, an
# output that cannot be written) is one line and leaves no file behind.
. "${LRC_TESTDATA:-$(dirname "$0")}/lib.sh"

# A small ChatML corpus: arithmetic exchanges, a line without "text", a blank
# line, and a plain-text file. Files of other kinds in the folder are ignored.
mkdir "$TMP/data" "$TMP/tok"
awk 'BEGIN {
    srand(7)
    for (i = 0; i < 400; i++) {
        a = int(rand() * 900) + 10; b = int(rand() * 90) + 2
        printf "{\"text\": \"<|im_start|>user\\nWhat is %d plus %d?<|im_end|>\\n", a, b
        printf "<|im_start|>assistant\\n%d + %d = %d. The answer is %d.<|im_end|>\\n\"}\n", a, b, a + b, a + b
        if (i == 10) print "{\"id\": 10}"
        if (i == 20) print ""
    }
}' >"$TMP/data/train.jsonl"
printf 'Café au lait, naïve façade — ✓ 日本語.\nTabs\tand  spaces.\n' >"$TMP/data/notes.txt"
printf 'not read\n' >"$TMP/data/README.md"

ok "tokenizer --help exits 0" "$LRC" tokenizer --help
grep -q '^  train ' "$TMP/out"
check "tokenizer --help lists train"
ok "tokenizer train --help exits 0" "$LRC" tokenizer train --help
grep -q -- '--vocab N' "$TMP/out"
check "train --help documents --vocab"

# ---- a tokenizer from the folder ------------------------------------------
ok "train on a folder" "$LRC" tokenizer train --data "$TMP/data" --vocab 330 \
    --out "$TMP/tok/tokenizer.json"
cp "$TMP/err" "$TMP/train.log"
[ -s "$TMP/tok/tokenizer.json" ] && [ -s "$TMP/tok/tokenizer_config.json" ]
check "tokenizer.json and tokenizer_config.json written"
grep -q '^merges [0-9]*/71$' "$TMP/train.log"
check "progress reports merges done of total"
grep -q 'in 401 documents of 2 files' "$TMP/train.log"
check "reads 400 .jsonl texts and one .txt file"
grep -q 'skipped 1 .jsonl lines' "$TMP/train.log"
check "counts the line without text"
[ "$(ls "$TMP/tok" | wc -l)" -eq 2 ]
check "no temporary file left"

ids=$("$LRC" tokenize --no-special "$TMP/tok" '<|endoftext|><|im_start|><|im_end|>')
[ "$ids" = "0 1 2" ]
check "special tokens have ids 0 1 2 (got $ids)"

# decode(encode(x)) == x, with the text on stdin so newlines stay as they are.
n=0
for text in '<|im_start|>user
What is 123 plus 45?<|im_end|>
' 'Café au lait 2024 — ✓ 日本語' '  two  spaces, a	tab
and a trailing newline
'; do
    n=$((n + 1))
    printf '%s' "$text" >"$TMP/in$n"
    "$LRC" tokenize --no-special "$TMP/tok" - <"$TMP/in$n" >"$TMP/ids$n" &&
        "$LRC" detokenize -n "$TMP/tok" - <"$TMP/ids$n" >"$TMP/back$n" &&
        cmp -s "$TMP/in$n" "$TMP/back$n"
    check "round trip sample $n"
done

# Every digit is a token of its own.
ids=$("$LRC" tokenize --no-special "$TMP/tok" '12345')
[ "$(echo "$ids" | wc -w)" -eq 5 ]
check "12345 encodes as 5 tokens (got $ids)"

# The same input gives the same bytes; a folder as --out means FOLDER/tokenizer.json.
mkdir "$TMP/tok2"
ok "train again into a folder" "$LRC" tokenizer train --data "$TMP/data" --vocab 330 \
    --out "$TMP/tok2"
cmp -s "$TMP/tok/tokenizer.json" "$TMP/tok2/tokenizer.json" &&
    cmp -s "$TMP/tok/tokenizer_config.json" "$TMP/tok2/tokenizer_config.json"
check "training twice gives identical files"

# One .jsonl file as --data, with other special tokens: the roles follow them
# and there is no ChatML template.
ok "train on one .jsonl file" "$LRC" tokenizer train --data "$TMP/data/train.jsonl" \
    --vocab 300 --special '<s>,</s>,<pad>' --out "$TMP/tok2/tokenizer.json"
ids=$("$LRC" tokenize --no-special "$TMP/tok2" '<s></s><pad><|im_end|>')
[ "$(echo "$ids" | cut -d' ' -f1-3)" = "0 1 2" ] && [ "$(echo "$ids" | wc -w)" -gt 4 ]
check "custom special tokens have ids 0 1 2 (got $ids)"
grep -q '"bos_token": "<s>"' "$TMP/tok2/tokenizer_config.json" &&
    grep -q '"eos_token": "</s>"' "$TMP/tok2/tokenizer_config.json" &&
    grep -q '"pad_token": "<pad>"' "$TMP/tok2/tokenizer_config.json"
check "custom special tokens get the bos, eos and pad roles"
! grep -q chat_template "$TMP/tok2/tokenizer_config.json"
check "no chat template without ChatML tokens"

# ---- errors: one line on stderr, no file written ---------------------------
# fails_cleanly DESCRIPTION STATUS OUT-FOLDER COMMAND...: the command exits with
# STATUS, its error is one "lrc: " line, and OUT-FOLDER stays empty. The error
# is the last line on stderr; progress lines about files already read may
# come before it.
fails_cleanly() {
    desc=$1
    want=$2
    folder=$3
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
    [ "$status" -eq "$want" ]
    check "$desc exits $want (got $status)"
    [ "$(grep -c '^lrc: ' "$TMP/err")" -eq 1 ] && tail -n 1 "$TMP/err" | grep -q '^lrc: '
    check "$desc gives one line: $(tail -n 1 "$TMP/err")"
    [ -z "$(ls -A "$folder" 2>/dev/null)" ]
    check "$desc leaves no file"
}

mkdir "$TMP/empty"
fails_cleanly "vocab below specials + 256" 2 "$TMP/empty" \
    "$LRC" tokenizer train --data "$TMP/data" --vocab 258 --out "$TMP/empty/tokenizer.json"
grep -q 'at least 259' "$TMP/err"
check "vocab error names the minimum 259"
fails_cleanly "vocab not a number" 2 "$TMP/empty" \
    "$LRC" tokenizer train --data "$TMP/data" --vocab 4k --out "$TMP/empty/tokenizer.json"
fails_cleanly "missing data folder" 1 "$TMP/empty" \
    "$LRC" tokenizer train --data "$TMP/no-such-folder" --vocab 300 --out "$TMP/empty/tokenizer.json"
grep -q 'no-such-folder' "$TMP/err"
check "missing data error names the folder"
mkdir "$TMP/nothing"
fails_cleanly "folder without training files" 1 "$TMP/empty" \
    "$LRC" tokenizer train --data "$TMP/nothing" --vocab 300 --out "$TMP/empty/tokenizer.json"
fails_cleanly "output folder missing" 1 "$TMP/empty" \
    "$LRC" tokenizer train --data "$TMP/data" --vocab 300 --out "$TMP/empty/sub/tokenizer.json"
grep -q 'empty/sub' "$TMP/err"
check "output error names the folder"

# tokenizer_config.json is a folder, so it cannot be replaced: nothing is written.
mkdir "$TMP/blocked" "$TMP/blocked/tokenizer_config.json"
"$LRC" tokenizer train --data "$TMP/data" --vocab 300 --out "$TMP/blocked/tokenizer.json" \
    >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ]
check "unwritable tokenizer_config.json gives one line: $(cat "$TMP/err")"
[ "$(ls -A "$TMP/blocked")" = "tokenizer_config.json" ] && [ -z "$(ls -A "$TMP/blocked/tokenizer_config.json")" ]
check "unwritable output leaves no partial file"

printf '{"text": "ok"}\n{"text": \n' >"$TMP/bad.jsonl"
fails_cleanly "malformed .jsonl line" 1 "$TMP/empty" \
    "$LRC" tokenizer train --data "$TMP/bad.jsonl" --vocab 300 --out "$TMP/empty/tokenizer.json"
grep -q 'bad.jsonl:2' "$TMP/err"
check "malformed line error names file and line"

fails_cleanly "unknown subcommand" 2 "$TMP/empty" "$LRC" tokenizer fit
fails_cleanly "unknown option" 2 "$TMP/empty" "$LRC" tokenizer train --size 3

done_testing
