#!/bin/sh
# lrc info on small models written by make_model_fixture: every dimension,
# the tensor and dtype counts, and a parameter count computed here from the
# dimensions, in text and --json form, for safetensors (single and sharded)
# and llama2.c files.
. "$LRC_TESTDATA/lib.sh"
FIXTURE="$(dirname "$LRC")/tests/make_model_fixture"
[ -x "$FIXTURE" ] || skip_all "make_model_fixture not built"
export LRC_MEMORY_LIMIT=1G

# field NAME FILE: the value after "NAME:" in lrc info's text output.
field() {
    sed -n "s|^$1: *||p" "$2"
}

# params d L H Hkv I V tied bias: embedding, per-layer tensors, final norm, head.
params() {
    d=$1 L=$2 H=$3 Hkv=$4 I=$5 V=$6 tied=$7 bias=$8
    h=$((d / H))
    q=$((H * h))
    kv=$((Hkv * h))
    layer=$((2 * d + q * d + 2 * kv * d + d * q + 3 * I * d))
    [ "$bias" = 1 ] && layer=$((layer + q + 2 * kv))
    total=$((V * d + L * layer + d))
    [ "$tied" = 1 ] || total=$((total + V * d))
    echo "$total"
}

ok "lrc info --help exits 0" "$LRC" info --help
grep -q -- "--json" "$TMP/out"
check "--help lists --json"

# Llama, F32, one file, untied.
"$FIXTURE" "$TMP/llama" d=32 layers=3 heads=4 kv_heads=2 mlp=48 vocab=51 seq=128
ok "info on a llama folder" "$LRC" info "$TMP/llama"
cp "$TMP/out" "$TMP/llama.txt"
[ "$(field architecture "$TMP/llama.txt")" = "LlamaForCausalLM (model_type llama)" ]
check "architecture"
[ "$(field "hidden size" "$TMP/llama.txt")" = 32 ] && [ "$(field layers "$TMP/llama.txt")" = 3 ] &&
    [ "$(field "attention heads" "$TMP/llama.txt")" = 4 ] &&
    [ "$(field "KV heads" "$TMP/llama.txt")" = 2 ] && [ "$(field "head size" "$TMP/llama.txt")" = 8 ] &&
    [ "$(field "MLP width" "$TMP/llama.txt")" = 48 ] && [ "$(field "vocab size" "$TMP/llama.txt")" = 51 ] &&
    [ "$(field "max positions" "$TMP/llama.txt")" = 128 ]
check "every dimension"
[ "$(field "rope theta" "$TMP/llama.txt")" = 500000 ] && [ "$(field "norm eps" "$TMP/llama.txt")" = 1e-05 ] &&
    [ "$(field "rope scaling" "$TMP/llama.txt")" = none ] &&
    [ "$(field "tied embeddings" "$TMP/llama.txt")" = no ] &&
    [ "$(field "q/k/v biases" "$TMP/llama.txt")" = no ]
check "rope, eps, tied, biases"
# 1 embedding + 3 x 9 + final norm + lm_head
[ "$(field tensors "$TMP/llama.txt")" = 30 ] && [ "$(field dtypes "$TMP/llama.txt")" = "F32 x 30" ]
check "tensor count and dtypes"
want=$(params 32 3 4 2 48 51 0 0)
got=$(field parameters "$TMP/llama.txt" | tr -d ,)
[ "$got" = "$want" ]
check "parameter count $got equals $want"
grep -q "^memory (fp32): .* of weights" "$TMP/llama.txt" && grep -q "$TMP/llama/model.safetensors" "$TMP/llama.txt" &&
    grep -q "$TMP/llama/config.json" "$TMP/llama.txt"
check "memory and files read"

ok "info --json" "$LRC" info --json "$TMP/llama"
cp "$TMP/out" "$TMP/llama.json"
grep -Eq "\"parameters\":[[:space:]]*$want," "$TMP/llama.json" &&
    grep -Eq '"hidden_size":[[:space:]]*32,' "$TMP/llama.json" &&
    grep -Eq '"num_key_value_heads":[[:space:]]*2,' "$TMP/llama.json" &&
    grep -Eq '"tensors":[[:space:]]*30,' "$TMP/llama.json" &&
    grep -Eq '"weight_bytes":[[:space:]]*'$((4 * want))',' "$TMP/llama.json"
check "--json carries the same numbers"
if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["dtypes"] == {"F32": 30}, d' "$TMP/llama.json"
    check "--json parses as JSON"
fi

# Qwen2, BF16, three shards, tied, q/k/v biases.
"$FIXTURE" "$TMP/qwen" arch=qwen2 dtype=bf16 shards=3 tied=1 d=24 layers=2 heads=6 kv_heads=2 mlp=40 vocab=33
ok "info on a sharded qwen2 folder" "$LRC" info "$TMP/qwen"
cp "$TMP/out" "$TMP/qwen.txt"
want=$(params 24 2 6 2 40 33 1 1)
[ "$(field parameters "$TMP/qwen.txt" | tr -d ,)" = "$want" ]
check "qwen2 parameter count equals $want"
# 1 + 2 x 12 + 1, no lm_head
[ "$(field dtypes "$TMP/qwen.txt")" = "BF16 x 26" ] && [ "$(field "q/k/v biases" "$TMP/qwen.txt")" = yes ] &&
    [ "$(field "tied embeddings" "$TMP/qwen.txt")" = yes ] &&
    [ "$(field format "$TMP/qwen.txt")" = "safetensors, 3 files (sharded)" ]
check "qwen2 dtypes, biases, tied, shards"
grep -q "model.safetensors.index.json" "$TMP/qwen.txt" && grep -q "model-00003-of-00003.safetensors" "$TMP/qwen.txt"
check "sharded files listed"

# llama2.c legacy (untied) and version 1 (shared).
"$FIXTURE" "$TMP/l2c" arch=llama2c d=16 layers=2 heads=4 kv_heads=4 mlp=24 vocab=11 seq=8
ok "info on a llama2.c legacy file" "$LRC" info "$TMP/l2c/model.bin"
cp "$TMP/out" "$TMP/l2c.txt"
[ "$(field format "$TMP/l2c.txt")" = "llama2.c legacy" ] &&
    [ "$(field parameters "$TMP/l2c.txt" | tr -d ,)" = "$(params 16 2 4 4 24 11 0 0)" ] &&
    [ "$(field "rope pairing" "$TMP/l2c.txt")" = "interleaved (2i, 2i+1)" ] &&
    [ "$(field "tied embeddings" "$TMP/l2c.txt")" = no ]
check "llama2.c legacy format, parameters, pairing"
"$FIXTURE" "$TMP/l2c1" arch=llama2c-v1 tied=1 d=16 layers=2 heads=4 kv_heads=2 mlp=24 vocab=11 seq=8
ok "info on a llama2.c version 1 file" "$LRC" info "$TMP/l2c1/model.bin"
[ "$(field format "$TMP/out")" = "llama2.c version 1" ] &&
    [ "$(field parameters "$TMP/out" | tr -d ,)" = "$(params 16 2 4 2 24 11 1 0)" ]
check "llama2.c version 1 format and parameters"

# A 1.1-billion-parameter BF16 model whose data section is a file hole: info
# reads headers only, so it finishes at once and never touches the 2 GiB.
"$FIXTURE" "$TMP/big" sparse=1 dtype=bf16 d=2048 layers=16 heads=32 kv_heads=8 mlp=8192 vocab=32000 seq=4096
start=$(date +%s)
ok "info on a sparse 1.1B model" "$LRC" info "$TMP/big"
elapsed=$(($(date +%s) - start))
[ "$elapsed" -le 2 ]
check "info on 2 GiB of weights takes ${elapsed}s (at most 2)"
want=$(params 2048 16 32 8 8192 32000 0 0)
[ "$(field parameters "$TMP/out" | tr -d ,)" = "$want" ] && [ "$(field dtypes "$TMP/out")" = "BF16 x 147" ]
check "sparse model parameter count equals $want"

# Usage errors exit 2.
"$LRC" info >/dev/null 2>&1
[ $? -eq 2 ]
check "missing PATH exits 2"
"$LRC" info --bogus "$TMP/llama" >/dev/null 2>&1
[ $? -eq 2 ]
check "unknown option exits 2"

done_testing
