#!/bin/sh
# lrc generate on the tiny fixture model of tests/reference: the greedy text
# must equal the continuation computed by gen_llama.py's float64 PyTorch
# forward, sampling must repeat for a seed, and bad input must fail with a
# one-line message.
. "$LRC_TESTDATA/lib.sh"
data="$LRC_TESTDATA/reference/data"
model="$data/llama-f32"

ok "generate --help exits 0" "$LRC" generate --help
grep -q -- "--prompt" "$TMP/out"
check "generate --help names --prompt"

ok "generate greedy runs" "$LRC" generate "$model" --prompt "the cat" -n 12 --temperature 0
cmp -s "$TMP/out" "$model/generate.txt"
check "generate greedy text matches the PyTorch reference"
grep -q "^prompt: 2 tokens in .* tokens/s" "$TMP/err"
check "generate prints the prompt speed on stderr"
grep -q "^generation: 12 tokens in .* tokens/s" "$TMP/err"
check "generate prints the generation speed on stderr"

ok "generate greedy with -n 5 runs" "$LRC" generate "$model" --prompt "the cat" -n 5 --temperature 0 --threads 1
short=$(tr -d '\n' <"$TMP/out")
full=$(tr -d '\n' <"$model/generate.txt")
case $full in "$short"*) true ;; *) false ;; esac
check "generate -n 5 is a prefix of the longer text"

"$LRC" generate "$model" --prompt "the dog" -n 20 --temperature 0.9 --top-p 0.95 --seed 7 \
    >"$TMP/a" 2>/dev/null &&
    "$LRC" generate "$model" --prompt "the dog" -n 20 --temperature 0.9 --top-p 0.95 --seed 7 \
        >"$TMP/b" 2>/dev/null && cmp -s "$TMP/a" "$TMP/b" && [ -s "$TMP/a" ]
check "generate with the same seed repeats its text"

ok "generate runs a llama2.c checkpoint with --tokenizer" \
    "$LRC" generate "$data/llama2c/model.bin" --tokenizer "$model" --prompt "the" -n 4 --temperature 0

# fails STATUS DESCRIPTION PATTERN COMMAND...: exits with STATUS and one stderr
# line matching PATTERN.
fails() {
    want=$1 desc=$2 pattern=$3
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
    [ "$status" -eq "$want" ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -- "$pattern" "$TMP/err"
    check "$desc"
}

fails 2 "generate without --prompt is a usage error" "--prompt" "$LRC" generate "$model"
fails 2 "generate without a model is a usage error" "PATH" "$LRC" generate --prompt hi
fails 2 "generate rejects a non-numeric temperature" "temperature" \
    "$LRC" generate "$model" --prompt hi --temperature warm
fails 2 "generate rejects top-p above 1" "top-p" "$LRC" generate "$model" --prompt hi --top-p 1.5
fails 2 "generate rejects -n 0" "-n '0'" "$LRC" generate "$model" --prompt hi -n 0
fails 2 "generate rejects an unknown option" "--bogus" "$LRC" generate "$model" --prompt hi --bogus
fails 2 "generate rejects a missing option value" "--seed" "$LRC" generate "$model" --prompt hi --seed
fails 1 "generate names a missing model path" "$TMP/none" "$LRC" generate "$TMP/none" --prompt hi
fails 1 "generate rejects an empty prompt" "no tokens" "$LRC" generate "$model" --prompt ""

done_testing
