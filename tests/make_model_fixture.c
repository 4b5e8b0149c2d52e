/*
 * Write a small random model for the shell tests:
 *
 *   make_model_fixture DIR [key=value...]
 *
 * keys: arch (llama, mistral, qwen2, llama2c, llama2c-v1), dtype (f32, f16,
 * bf16), shards, tied, bias, d, layers, heads, kv_heads, mlp, vocab, seq,
 * sparse (1: header only, the data section left as a file hole).
 * For llama2c the model goes to DIR/model.bin; otherwise DIR contains
 * config.json and the safetensors files (see tests/model_fixture.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model_fixture.h"

static int write_llama2c(const char *dir, const fixture_spec *s, int version) {
    char path[1024];
    snprintf(path, sizeof path, "%s/model.bin", dir);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    int32_t p[7] = {s->d, s->I, s->L, s->H, s->Hkv, s->V, s->max_seq};
    if (version == 0) {
        if (!s->tied)
            p[5] = -p[5];
        fwrite(p, sizeof p, 1, fp);
    } else {
        uint8_t hdr[256] = {0};
        uint32_t magic = 0x616b3432;
        int32_t ver = 1;
        memcpy(hdr, &magic, 4);
        memcpy(hdr + 4, &ver, 4);
        memcpy(hdr + 8, p, sizeof p);
        hdr[36] = (uint8_t)(s->tied != 0);
        fwrite(hdr, 1, sizeof hdr, fp);
    }
    size_t kv = (size_t)s->Hkv * (size_t)s->h, d = (size_t)s->d, L = (size_t)s->L;
    size_t n = (size_t)s->V * d + L * (2 * d + 2 * d * d + 2 * kv * d + 3 * (size_t)s->I * d) + d +
               (s->tied ? 0 : (size_t)s->V * d);
    if (version == 0)
        n += (size_t)s->max_seq * (size_t)s->h; /* RoPE tables */
    for (size_t i = 0; i < n; i++) {
        float v = fixture_value(ST_F32);
        fwrite(&v, 4, 1, fp);
    }
    return fclose(fp);
}

/*
 * Write DIR/model.safetensors with a complete header but no data written: the
 * data section is a hole made by truncate(2), so a model of several GB costs no
 * disk or time. Readers of headers only (lrc info) work on it.
 */
static int write_sparse(const char *dir, const fixture_spec *s) {
    fixture fx;
    fixture_shapes_only = 1;
    fixture_build(&fx, s);
    size_t esize = safetensors_dtype_size(s->dtype), offset = 0;
    size_t cap = 256 * (fx.n + 1), len = 0;
    char *header = malloc(cap);
    len += (size_t)snprintf(header + len, cap - len, "{");
    for (size_t i = 0; i < fx.n; i++) {
        const fixture_tensor *t = &fx.t[i];
        size_t bytes = t->numel * esize;
        char shape[64];
        if (t->ndim == 2)
            snprintf(shape, sizeof shape, "%lld, %lld", (long long)t->shape[0],
                     (long long)t->shape[1]);
        else
            snprintf(shape, sizeof shape, "%lld", (long long)t->shape[0]);
        len += (size_t)snprintf(header + len, cap - len,
                                "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%s],"
                                "\"data_offsets\":[%zu,%zu]}",
                                i ? "," : "", t->name, safetensors_dtype_name(s->dtype), shape,
                                offset, offset + bytes);
        offset += bytes;
    }
    len += (size_t)snprintf(header + len, cap - len, "}");
    fixture_free(&fx);

    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *fp = fopen(path, "wb");
    uint64_t n = len;
    int rc = !fp || fwrite(&n, 8, 1, fp) != 1 || fwrite(header, 1, len, fp) != len;
    free(header);
    if (fp && fclose(fp) != 0)
        rc = 1;
    if (rc || truncate(path, (off_t)(8 + len + offset)) != 0)
        return -1;
    return fixture_write_config(dir, s);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: make_model_fixture DIR [key=value...]\n");
        return 2;
    }
    fixture_spec s = {.arch = "LlamaForCausalLM",
                      .model_type = "llama",
                      .d = 16,
                      .L = 2,
                      .H = 4,
                      .Hkv = 2,
                      .I = 24,
                      .V = 19,
                      .max_seq = 32,
                      .dtype = ST_F32};
    int llama2c = -1, sparse = 0;
    for (int i = 2; i < argc; i++) {
        char key[32];
        const char *eq = strchr(argv[i], '=');
        if (!eq || (size_t)(eq - argv[i]) >= sizeof key) {
            fprintf(stderr, "make_model_fixture: bad argument '%s'\n", argv[i]);
            return 2;
        }
        memcpy(key, argv[i], (size_t)(eq - argv[i]));
        key[eq - argv[i]] = '\0';
        const char *v = eq + 1;
        int n = atoi(v);
        if (strcmp(key, "arch") == 0) {
            if (strcmp(v, "mistral") == 0) {
                s.arch = "MistralForCausalLM";
                s.model_type = "mistral";
            } else if (strcmp(v, "qwen2") == 0) {
                s.arch = "Qwen2ForCausalLM";
                s.model_type = "qwen2";
            } else if (strcmp(v, "llama2c") == 0) {
                llama2c = 0;
            } else if (strcmp(v, "llama2c-v1") == 0) {
                llama2c = 1;
            }
        } else if (strcmp(key, "dtype") == 0) {
            s.dtype = strcmp(v, "f16") == 0 ? ST_F16 : strcmp(v, "bf16") == 0 ? ST_BF16 : ST_F32;
        } else if (strcmp(key, "sparse") == 0) {
            sparse = n;
        } else if (strcmp(key, "shards") == 0) {
            s.shards = n;
        } else if (strcmp(key, "tied") == 0) {
            s.tied = n;
        } else if (strcmp(key, "bias") == 0) {
            s.attention_bias = n;
        } else if (strcmp(key, "d") == 0) {
            s.d = n;
        } else if (strcmp(key, "layers") == 0) {
            s.L = n;
        } else if (strcmp(key, "heads") == 0) {
            s.H = n;
        } else if (strcmp(key, "kv_heads") == 0) {
            s.Hkv = n;
        } else if (strcmp(key, "mlp") == 0) {
            s.I = n;
        } else if (strcmp(key, "vocab") == 0) {
            s.V = n;
        } else if (strcmp(key, "seq") == 0) {
            s.max_seq = n;
        } else {
            fprintf(stderr, "make_model_fixture: unknown key '%s'\n", key);
            return 2;
        }
    }
    s.h = s.d / s.H;
    mkdir(argv[1], 0700);
    if (llama2c >= 0)
        return write_llama2c(argv[1], &s, llama2c) ? 1 : 0;
    if (sparse)
        return write_sparse(argv[1], &s) ? 1 : 0;
    fixture fx;
    int rc = fixture_write_model(argv[1], &fx, &s);
    fixture_free(&fx);
    return rc ? 1 : 0;
}
