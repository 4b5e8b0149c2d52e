#!/bin/sh
# lrc tokenize / lrc detokenize through the binary, on a few reference lines of
# every tokenizer fixture (ids made by other implementations). Text is given as
# an argument and on stdin, output is plain and --json, and ids are given as
# arguments and as a JSON array on stdin. The error paths are checked last.
. "${LRC_TESTDATA:-$(dirname "$0")}/lib.sh"

FIX="$LRC_SHARED/fixtures/tokenizers"
[ -f "$FIX/strings.jsonl" ] || skip_all "tokenizer fixtures not found under \$LRC_SHARED"

gzip -dc "$FIX/llama3-hf/tokenizer.json.gz" >"$TMP/tokenizer.json" ||
    skip_all "gzip -dc failed on llama3-hf/tokenizer.json.gz"

# ref_line FOLDER NAME SPECIAL: the reference line for string NAME in mode SPECIAL.
ref_line() {
    grep -E "\"name\": ?\"$2\", ?\"add_special_tokens\": ?$3[,}]" "$FIX/$1/reference.jsonl"
}
# field_ids LINE: the "ids" array as space-separated numbers.
field_ids() {
    printf '%s\n' "$1" | sed -n 's/.*"ids": \{0,1\}\[\([^]]*\)\].*/\1/p' | sed 's/, */ /g'
}
# field_text KEY LINE: a string field without escapes.
field_text() {
    printf '%s\n' "$2" | sed -n "s/.*\"$1\": \{0,1\}\"\([^\"]*\)\".*/\1/p"
}

# check_folder FOLDER PATH MODES...: two strings per mode through arguments, then one
# string through stdin and --json. Each call loads the tokenizer, so the list stays short.
check_folder() {
    folder=$1
    path=$2
    shift 2
    for mode in "$@"; do
        flag=
        [ "$mode" = false ] && flag=--no-special
        for name in hello_world emoji_simple; do
            line=$(ref_line "$folder" "$name" "$mode")
            want=$(field_ids "$line")
            text=$(field_text text "$line")
            decoded=$(field_text decoded "$line")

            got=$("$LRC" tokenize $flag "$path" "$text")
            [ -n "$want" ] && [ "$got" = "$want" ]
            check "$folder $name special=$mode: tokenize"

            # shellcheck disable=SC2086
            got=$("$LRC" detokenize -n "$path" $want)
            [ "$got" = "$decoded" ]
            check "$folder $name special=$mode: detokenize"
        done
    done

    line=$(ref_line "$folder" cjk_chinese "$mode")
    want=$(field_ids "$line")
    text=$(field_text text "$line")
    decoded=$(field_text decoded "$line")

    got=$(printf '%s' "$text" | "$LRC" tokenize $flag "$path" -)
    [ -n "$want" ] && [ "$got" = "$want" ]
    check "$folder cjk_chinese special=$mode: tokenize stdin"

    json="[$(printf '%s' "$want" | sed 's/ /, /g')]"
    got=$("$LRC" tokenize --json $flag "$path" "$text")
    [ "$got" = "$json" ]
    check "$folder cjk_chinese special=$mode: tokenize --json"

    got=$(printf '%s\n' "$json" | "$LRC" detokenize -n "$path" -)
    [ "$got" = "$decoded" ]
    check "$folder cjk_chinese special=$mode: detokenize JSON on stdin"
}

check_folder smollm2-135m-instruct "$FIX/smollm2-135m-instruct" true false
check_folder smollm-135m-finetune-pairmerges "$FIX/smollm-135m-finetune-pairmerges/tokenizer.json" true false
check_folder tinyllama-chat-v0.1-hf "$FIX/tinyllama-chat-v0.1-hf" true false
check_folder mistral-7b-v0.1-hf "$FIX/mistral-7b-v0.1-hf/tokenizer.json" true false
check_folder llama3-hf "$TMP/tokenizer.json" true false
check_folder llama2-spm "$FIX/llama2-spm/tokenizer.model" true false
check_folder llama2-spm "$FIX/llama2-spm/tokenizer.bin" true false
check_folder gpt2 "$FIX/gpt2" false

# Text with newlines on stdin, with special-token text inside.
want=$(field_ids "$(ref_line smollm2-135m-instruct special_chatml false)")
got=$(printf '<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n' |
    "$LRC" tokenize --no-special "$FIX/smollm2-135m-instruct" -)
[ "$got" = "$want" ]
check "smollm2 special_chatml: newlines and special tokens on stdin"

want=$(field_ids "$(ref_line tinyllama-chat-v0.1-hf newlines true)")
got=$(printf 'line one\nline two\n\nline four\n' | "$LRC" tokenize "$FIX/tinyllama-chat-v0.1-hf" -)
[ "$got" = "$want" ]
check "tinyllama newlines: stdin keeps the trailing newline"

# Ids separated by commas in one argument.
got=$("$LRC" detokenize -n "$FIX/tinyllama-chat-v0.1-hf" "1,15043,3186")
[ "$got" = "<s> Hello world" ]
check "detokenize: comma-separated ids"

# Help and errors.
ok "tokenize --help" "$LRC" tokenize --help
grep -q -- "--no-special" "$TMP/out"
check "tokenize --help lists --no-special"
ok "detokenize --help" "$LRC" detokenize --help
grep -q -- "--no-newline" "$TMP/out"
check "detokenize --help lists --no-newline"

"$LRC" tokenize "$TMP/nowhere" "x" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "$TMP/nowhere" "$TMP/err"
check "tokenize: missing tokenizer names the path, exit 1"

printf '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [\n"a b" x]}}' >"$TMP/broken.json"
"$LRC" tokenize "$TMP/broken.json" "x" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "broken.json: invalid JSON at line 2" "$TMP/err"
check "tokenize: malformed JSON names the file and the line"

"$LRC" tokenize "$FIX/llama3-hf" "x" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "gzip" "$TMP/err"
check "tokenize: folder with only tokenizer.json.gz says to unpack it"

"$LRC" detokenize "$FIX/gpt2" 50257 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "50257" "$TMP/err"
check "detokenize: id out of range, exit 1"

"$LRC" detokenize "$FIX/gpt2" 12 abc >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "'abc' is not a token id" "$TMP/err"
check "detokenize: non-numeric id is a usage error"

printf 'ok\377' | "$LRC" tokenize "$FIX/gpt2" - >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "not valid UTF-8 at byte 2" "$TMP/err"
check "tokenize: invalid UTF-8 names the byte offset"

"$LRC" tokenize --frobnicate "$FIX/gpt2" x >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ]
check "tokenize: unknown option is a usage error"

"$LRC" tokenize "$FIX/gpt2" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ]
check "tokenize: missing TEXT is a usage error"

# Id lists: malformed JSON and empty fields are usage errors; ids too large
# for an integer are outside the vocabulary like any other (exit 1).
ref="$LRC_TESTDATA/reference/data/llama-f32"
for bad in '[98,' '[[98]]' '98,,110' '[98 110]' '[98] x'; do
    "$LRC" detokenize "$ref" "$bad" >"$TMP/out" 2>"$TMP/err"
    [ $? -eq 2 ] && grep -q "malformed id list" "$TMP/err" && [ ! -s "$TMP/out" ]
    check "detokenize: '$bad' is a usage error"
done
printf '[98,\n' | "$LRC" detokenize "$ref" - >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "malformed id list" "$TMP/err"
check "detokenize: unbalanced JSON on stdin is a usage error"
for big in 99999999999 4294967296 99999999999999999999999; do
    "$LRC" detokenize "$ref" 98 "$big" >"$TMP/out" 2>"$TMP/err"
    [ $? -eq 1 ] && grep -q "token id $big (position 1) is outside the vocabulary of 128 ids" "$TMP/err"
    check "detokenize: $big is outside the vocabulary, exit 1"
done
got=$("$LRC" detokenize "$ref" '[98, 110]') && [ "$got" = "the cat" ]
check "detokenize: a JSON array still works"
got=$("$LRC" detokenize "$ref" 98, 110) && [ "$got" = "the cat" ]
check "detokenize: ids with a trailing comma per argument still work"

# A tokenizer.json that cannot be reached is not reported as missing.
mkdir "$TMP/loop"
ln -s tokenizer.json "$TMP/loop/tokenizer.json"
"$LRC" tokenize "$TMP/loop" x >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "cannot open tokenizer.json in this directory: Too many levels" "$TMP/err"
check "tokenize: unreachable tokenizer.json names the error, not absence"

# A llama2.c model file is not a tokenizer: its vocabulary is tokenizer.bin beside it.
mkdir "$TMP/l2c"
cp "$LRC_TESTDATA/reference/data/llama2c/model.bin" "$TMP/l2c/model.bin"
"$LRC" tokenize "$TMP/l2c/model.bin" hi >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "model.bin: no tokenizer.bin beside" "$TMP/err"
check "tokenize: llama2.c model.bin without tokenizer.bin says so"
cp "$FIX/llama2-spm/tokenizer.bin" "$TMP/l2c/tokenizer.bin"
want=$("$LRC" tokenize "$TMP/l2c/tokenizer.bin" "hello world") &&
    got=$("$LRC" tokenize "$TMP/l2c/model.bin" "hello world") && [ -n "$want" ] &&
    [ "$got" = "$want" ]
check "tokenize: llama2.c model.bin uses the tokenizer.bin beside it"
cp "$FIX/llama2-spm/tokenizer.bin" "$TMP/l2c/tokenizer-32k.bin"
rm "$TMP/l2c/tokenizer.bin"
got=$("$LRC" tokenize "$TMP/l2c/tokenizer-32k.bin" "hello world") && [ "$got" = "$want" ]
check "tokenize: any tokenizer*.bin file is a llama2.c tokenizer"

done_testing
