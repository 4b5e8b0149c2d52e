#!/bin/sh
# Bad model files through the real binary: `lrc info PATH` must exit 1 with
# exactly one line on stderr that names the file and the key, tensor or byte
# offset. The models are written by make_model_fixture and then damaged.
. "$LRC_TESTDATA/lib.sh"
FIXTURE="$(dirname "$LRC")/tests/make_model_fixture"
[ -x "$FIXTURE" ] || skip_all "make_model_fixture not built"
export LRC_MEMORY_LIMIT=1G

# fails_with DESCRIPTION PATH NEEDLE...: lrc info PATH exits 1 with one
# stderr line containing every NEEDLE (fixed strings).
fails_with() {
    desc=$1
    path=$2
    shift 2
    tap_n=$((tap_n + 1))
    "$LRC" info "$path" >"$TMP/out" 2>"$TMP/err"
    status=$?
    good=1
    [ "$status" -eq 1 ] || good=0
    [ "$(wc -l <"$TMP/err")" -eq 1 ] || good=0
    for needle in "$@"; do
        grep -qF -- "$needle" "$TMP/err" || good=0
    done
    if [ "$good" -eq 1 ]; then
        echo "ok $tap_n - $desc"
    else
        tap_failed=$((tap_failed + 1))
        echo "not ok $tap_n - $desc"
        echo "# exit status $status, stderr:"
        sed 's/^/# /' "$TMP/err"
    fi
}

# raw_safetensors FILE HEADER DATA_BYTES: a safetensors file with that JSON
# header (under 64 KiB) and DATA_BYTES zero bytes of data.
raw_safetensors() {
    len=${#2}
    {
        printf "\\$(printf %03o $((len % 256)))\\$(printf %03o $((len / 256)))"
        printf '\000\000\000\000\000\000'
        printf '%s' "$2"
        head -c "$3" /dev/zero
    } >"$1"
}

# model NAME: a fresh good model folder, path printed.
model() {
    "$FIXTURE" "$TMP/$1" d=16 layers=2 heads=4 kv_heads=2 mlp=24 vocab=19 >/dev/null
    echo "$TMP/$1"
}

dir=$(model trunc)
head -c 5 "$dir/model.safetensors" >"$dir/short" && mv "$dir/short" "$dir/model.safetensors"
fails_with "truncated safetensors" "$dir" "$dir/model.safetensors" "truncated" "5 bytes"

dir=$(model past-end)
raw_safetensors "$dir/model.safetensors" '{}' 0
printf '\350\003' | dd of="$dir/model.safetensors" conv=notrunc 2>/dev/null
fails_with "header length past the end" "$dir" "$dir/model.safetensors" "header length 1000" \
    "byte offset 0"

dir=$(model overlap)
raw_safetensors "$dir/model.safetensors" \
    '{"a.weight":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b.weight":{"dtype":"F32","shape":[4],"data_offsets":[12,28]}}' 28
fails_with "overlapping tensors" "$dir" "$dir/model.safetensors" "'a.weight'" "'b.weight'" "overlap"

dir=$(model out-of-range)
size=$(wc -c <"$dir/model.safetensors")
head -c $((size - 100)) "$dir/model.safetensors" >"$dir/short" && mv "$dir/short" "$dir/model.safetensors"
fails_with "offsets out of range" "$dir" "$dir/model.safetensors" "data_offsets" "outside the data section"

dir=$(model dtype)
raw_safetensors "$dir/model.safetensors" \
    '{"model.norm.weight":{"dtype":"Q4_K","shape":[16],"data_offsets":[0,16]}}' 16
fails_with "unknown dtype" "$dir" "$dir/model.safetensors" "'model.norm.weight'" "unknown dtype 'Q4_K'"

dir=$(model header-json)
raw_safetensors "$dir/model.safetensors" '{"model.norm.weight":{"dtype":"F32",' 0
fails_with "malformed safetensors header" "$dir" "$dir/model.safetensors" "malformed JSON" "byte offset"

dir=$(model missing)
sed 's/"num_hidden_layers": 2/"num_hidden_layers": 3/' "$dir/config.json" >"$dir/c" && mv "$dir/c" "$dir/config.json"
fails_with "missing tensor" "$dir" "$dir/model.safetensors" "'model.layers.2.input_layernorm.weight'" "missing"

dir=$(model shape)
sed 's/"intermediate_size": 24/"intermediate_size": 20/' "$dir/config.json" >"$dir/c" && mv "$dir/c" "$dir/config.json"
fails_with "shape disagrees with config.json" "$dir" \
    "shape [24, 16] of model.layers.0.mlp.gate_proj.weight in $dir/model.safetensors disagrees with config.json: expected [20, 16] from intermediate_size=20"

dir=$(model config-json)
sed 's/"vocab_size": 19,/"vocab_size": 19/' "$dir/config.json" >"$dir/c" && mv "$dir/c" "$dir/config.json"
fails_with "malformed config.json" "$dir" "$dir/config.json" "malformed JSON near byte offset"

dir=$(model heads)
sed 's/"num_attention_heads": 4/"num_attention_heads": 3/' "$dir/config.json" >"$dir/c" && mv "$dir/c" "$dir/config.json"
fails_with "heads that do not divide the hidden size" "$dir" "$dir/config.json" \
    "heads that do not divide the hidden size" "num_attention_heads=3"

dir=$(model arch)
sed 's/LlamaForCausalLM/PhiForCausalLM/' "$dir/config.json" >"$dir/c" && mv "$dir/c" "$dir/config.json"
fails_with "unsupported architecture" "$dir" \
    "unsupported architecture 'PhiForCausalLM' in $dir/config.json: key architectures; supported:"

"$FIXTURE" "$TMP/l2c" arch=llama2c d=16 layers=2 heads=4 kv_heads=4 mlp=24 vocab=11 seq=8
head -c 1000 "$TMP/l2c/model.bin" >"$TMP/l2c/short.bin"
fails_with "truncated llama2.c file" "$TMP/l2c/short.bin" "$TMP/l2c/short.bin" \
    "truncated at byte offset 1000"

fails_with "missing path" "$TMP/nowhere" "$TMP/nowhere" "cannot open"

# Only ENOENT means "no config.json". A config.json that cannot be reached
# (a symlink loop here, EACCES for other users) must be reported with errno.
dir=$(model loop)
rm "$dir/config.json" && ln -s config.json "$dir/config.json"
fails_with "config.json in a symlink loop is not reported as missing" "$dir" "$dir" \
    "cannot open config.json in this folder: Too many levels of symbolic links"
if [ "$(id -u)" -ne 0 ]; then
    dir=$(model noperm)
    chmod 000 "$dir"
    fails_with "unsearchable model folder says Permission denied" "$dir" "$dir" \
        "Permission denied"
    chmod 755 "$dir"
else
    tap_n=$((tap_n + 1))
    echo "ok $tap_n # SKIP running as root, which ignores directory permissions"
fi

# A model over LRC_MEMORY_LIMIT: info reports it, loading would refuse.
dir=$(model memory)
LRC_MEMORY_LIMIT=1K "$LRC" info "$dir" >"$TMP/out" 2>&1
[ $? -eq 0 ] && grep -q "^memory available: *1.00 KiB (LRC_MEMORY_LIMIT); the model does not fit" "$TMP/out"
check "info reports a model over LRC_MEMORY_LIMIT"
LRC_MEMORY_LIMIT=lots "$LRC" info "$dir" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "LRC_MEMORY_LIMIT='lots'" "$TMP/err"
check "invalid LRC_MEMORY_LIMIT is an error"

done_testing
