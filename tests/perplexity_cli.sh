#!/bin/sh
# lrc perplexity on the tiny fixture model of tests/reference. For two window
# lengths, the counts and the mean NLL must match gen_llama.py's float64
# PyTorch computation within 1e-4 relative, which is above the 5e-6 rounding
# of %.6g. Bad input must fail with a one-line message.
. "$LRC_TESTDATA/lib.sh"
data="$LRC_TESTDATA/reference/data"
model="$data/llama-f32"
text="$data/ppl.txt"

ok "perplexity --help exits 0" "$LRC" perplexity --help
grep -q -- "--ctx" "$TMP/out"
check "perplexity --help names --ctx"

# value KEY FILE: the value printed on the line "KEY value".
value() {
    awk -v k="$1" '$1 == k {print $2}' "$2"
}

# near A B: |A - B| <= 1e-4 |B|.
near() {
    awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b;
        exit !(a != "" && d <= 1e-4 * m) }'
}

while read -r ctx tokens scored windows nll ppl; do
    ok "perplexity --ctx $ctx runs" "$LRC" perplexity "$model" --text "$text" --ctx "$ctx"
    cp "$TMP/out" "$TMP/result"
    [ "$(value tokens "$TMP/result")" = "$tokens" ]
    check "perplexity --ctx $ctx counts $tokens tokens"
    [ "$(value scored "$TMP/result")" = "$scored" ]
    check "perplexity --ctx $ctx scores $scored tokens"
    [ "$(value windows "$TMP/result")" = "$windows" ]
    check "perplexity --ctx $ctx uses $windows windows"
    near "$(value nll "$TMP/result")" "$nll"
    check "perplexity --ctx $ctx nll matches PyTorch ($nll)"
    near "$(value perplexity "$TMP/result")" "$ppl"
    check "perplexity --ctx $ctx perplexity matches PyTorch ($ppl)"
    value nll "$TMP/result" | grep -Eq '^[0-9]\.[0-9]{5}$'
    check "perplexity --ctx $ctx prints six significant digits"
done <"$model/perplexity.txt"

fails() {
    want=$1 desc=$2 pattern=$3
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
    [ "$status" -eq "$want" ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -- "$pattern" "$TMP/err"
    check "$desc"
}

printf 'a' >"$TMP/one.txt"
: >"$TMP/empty.txt"
fails 2 "perplexity without --text is a usage error" "--text" "$LRC" perplexity "$model"
fails 2 "perplexity rejects --ctx 1" "--ctx" "$LRC" perplexity "$model" --text "$text" --ctx 1
fails 2 "perplexity rejects an unknown option" "--window" \
    "$LRC" perplexity "$model" --text "$text" --window 3
fails 1 "perplexity names a missing text file" "$TMP/none.txt" \
    "$LRC" perplexity "$model" --text "$TMP/none.txt"
fails 1 "perplexity rejects a one-token file" "at least 2" \
    "$LRC" perplexity "$model" --text "$TMP/one.txt"
fails 1 "perplexity rejects an empty file" "at least 2" \
    "$LRC" perplexity "$model" --text "$TMP/empty.txt"
fails 1 "perplexity rejects --ctx beyond the model context" "context of 256" \
    "$LRC" perplexity "$model" --text "$text" --ctx 300
fails 1 "perplexity names a missing model" "$TMP/nomodel" \
    "$LRC" perplexity "$TMP/nomodel" --text "$text"

done_testing
