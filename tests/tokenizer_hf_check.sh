#!/bin/sh
# A tokenizer from lrc tokenizer train loads in Hugging Face's tokenizers.js
# (npm package @huggingface/tokenizers) and encodes samples to the same ids
# as lrc tokenize: digits, ChatML special tokens, Unicode, spaces, newlines.
# Needs node and the package in $LRC_NODE_MODULES (a node_modules folder),
# by default ${XDG_CACHE_HOME:-$HOME/.cache}/lrc-studio/node/node_modules, as
# installed by:
#   npm install --prefix "${XDG_CACHE_HOME:-$HOME/.cache}/lrc-studio/node" @huggingface/tokenizers@0.2.0
. "${LRC_TESTDATA:-$(dirname "$0")}/lib.sh"

modules=${LRC_NODE_MODULES:-${XDG_CACHE_HOME:-$HOME/.cache}/lrc-studio/node/node_modules}
command -v node >/dev/null 2>&1 || skip_all "node not found"
[ -d "$modules/@huggingface/tokenizers" ] ||
    skip_all "@huggingface/tokenizers not found in $modules; set LRC_NODE_MODULES or run npm install (see this script)"

# Training text: ChatML arithmetic with words, Unicode and runs of spaces.
mkdir "$TMP/data" "$TMP/tok"
awk 'BEGIN {
    srand(11)
    split("apples pears marbles coins books Café naïve Zürich 東京 π", w, " ")
    for (i = 0; i < 1500; i++) {
        a = int(rand() * 9000) + 10; b = int(rand() * 900) + 2; x = w[int(rand() * 10) + 1]
        printf "{\"text\": \"<|im_start|>user\\nAnna has %d %s and gets %d more.  How many?<|im_end|>\\n", a, x, b
        printf "<|im_start|>assistant\\n%d + %d = %d.\\n\\nThe answer is %d %s.<|im_end|>\\n\"}\n", a, b, a + b, a + b, x
    }
}' >"$TMP/data/train.jsonl"
ok "train a tokenizer" "$LRC" tokenizer train --data "$TMP/data" --vocab 600 --out "$TMP/tok"

printf '%s' '<|im_start|>user
Anna has 1234 apples and gets 56 more.  How many?<|im_end|>
<|im_start|>assistant
1234 + 56 = 1290.

The answer is 1290 apples.<|im_end|>
' >"$TMP/s1"
printf '%s' 'Prices: 3.50, 12,000 and 2024-12-04; 007 agents; 0x1F.' >"$TMP/s2"
printf '%s' 'Unicode: Café naïve Zürich 東京 π ≈ 3.14159, emoji 🙂, Ελληνικά ½ ٣' >"$TMP/s3"
printf '%s' '   leading spaces,	tab,  two  spaces
line two


after blank lines   ' >"$TMP/s4"
printf '%s' '<|im_end|><|im_start|>system<|endoftext|>text<|im_end|>x<|im_start|' >"$TMP/s5"
printf '%s' "unseen words: quixotic zephyr's don't we'll O'Neil" >"$TMP/s6"

node "$LRC_TESTDATA/hf_tokenizers_check.mjs" "$modules" "$TMP/tok" \
    "$TMP/s1" "$TMP/s2" "$TMP/s3" "$TMP/s4" "$TMP/s5" "$TMP/s6" >"$TMP/hf" 2>"$TMP/hf.err"
check "tokenizers.js loads the file and decodes its own ids back to the text"
sed 's/^/# /' "$TMP/hf.err"

n=0
for s in s1 s2 s3 s4 s5 s6; do
    n=$((n + 1))
    want=$(sed -n "${n}p" "$TMP/hf" | tr -d ' ')
    got=$("$LRC" tokenize --json --no-special "$TMP/tok" - <"$TMP/$s" | tr -d ' ')
    [ -n "$want" ] && [ "$got" = "$want" ]
    check "sample $s encodes as tokenizers.js does"
    [ "$got" = "$want" ] || { echo "# lrc:             $got"; echo "# tokenizers.js:   $want"; }
done

done_testing
