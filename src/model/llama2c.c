/*
 * llama2.c checkpoints (.bin), as written by llama2.c's export.py.
 *
 * Legacy: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size, seq_len; a negative vocab_size means an untied classifier),
 * then F32 arrays: token embedding (V,d), rms_att (L,d), wq (L,d,d),
 * wk (L,Hkv*h,d), wv (L,Hkv*h,d), wo (L,d,d), rms_ffn (L,d), w1 = gate
 * (L,I,d), w2 = down (L,d,I), w3 = up (L,I,d), rms_final (d), the RoPE
 * tables freq_cis_real and freq_cis_imag (seq_len, h/2 each, skipped here),
 * and the classifier (V,d) when untied.
 *
 * Version 1: uint32 magic 0x616b3432 ("ak42"), int32 version 1, the same 7
 * int32, uint8 shared_classifier, zero padding to 256 bytes, then F32 arrays
 * with the norms first: rms_att (L,d), rms_ffn (L,d), rms_final (d), token
 * embedding, wq, wk, wv, wo, w1, w2, w3 (each for all layers) and the
 * classifier when not shared. No RoPE tables.
 *
 * Both are described as a list of segments in file order, which the reader
 * walks with pread. The header check computes the same total in closed form,
 * before anything is allocated from the header, and requires the file size
 * to match exactly. Matrices are (out, in) row-major, as in
 * PyTorch. llama2.c pairs RoPE dimensions (2i, 2i+1), hence rope_interleaved.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model_load.h"

#define LLAMA2C_MAGIC 0x616b3432u
#define LLAMA2C_V1_HEADER 256

/* One array of the file: count floats read into dst, or skipped when dst is NULL. */
typedef struct segment {
    float *dst;
    uint64_t count;
} segment;

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Fill seg (room for max_segments(cfg) entries) in file order from cfg; with w NULL
 * only the counts are set. Returns the number of segments.
 */
static size_t build_segments(const llama_config *cfg, llama_format format, llama_weights *w,
                             segment *seg) {
    const uint64_t d = (uint64_t)cfg->d, kv = (uint64_t)cfg->Hkv * (uint64_t)cfg->h;
    const uint64_t q = (uint64_t)cfg->H * (uint64_t)cfg->h, I = (uint64_t)cfg->I;
    const uint64_t V = (uint64_t)cfg->V, L = (uint64_t)cfg->n_layers;
    size_t n = 0;
#define PUT(ptr, cnt) (seg[n].dst = w ? (ptr) : NULL, seg[n].count = (cnt), n++)
#define EACH_LAYER(field, cnt)                                                                     \
    for (uint64_t l = 0; l < L; l++)                                                               \
    PUT(w ? w->layers[l].field : NULL, cnt)

    if (format == LLAMA_FORMAT_LLAMA2C_LEGACY) {
        PUT(w ? w->embed : NULL, V * d);
        EACH_LAYER(attn_norm, d);
    } else {
        EACH_LAYER(attn_norm, d);
        EACH_LAYER(mlp_norm, d);
        PUT(w ? w->final_norm : NULL, d);
        PUT(w ? w->embed : NULL, V * d);
    }
    EACH_LAYER(wq, q * d);
    EACH_LAYER(wk, kv * d);
    EACH_LAYER(wv, kv * d);
    EACH_LAYER(wo, d * q);
    if (format == LLAMA_FORMAT_LLAMA2C_LEGACY)
        EACH_LAYER(mlp_norm, d);
    EACH_LAYER(w_gate, I * d);
    EACH_LAYER(w_down, d * I);
    EACH_LAYER(w_up, I * d);
    if (format == LLAMA_FORMAT_LLAMA2C_LEGACY) {
        PUT(w ? w->final_norm : NULL, d);
        PUT(NULL, 2 * (uint64_t)cfg->max_seq * (uint64_t)(cfg->h / 2)); /* RoPE tables */
    }
    if (!cfg->tied_embeddings)
        PUT(w ? w->lm_head : NULL, V * d);
#undef EACH_LAYER
#undef PUT
    return n;
}

static size_t max_segments(const llama_config *cfg) {
    return 4 + 11 * (size_t)cfg->n_layers;
}

static void set_config(llama_config *cfg, const int32_t p[7], bool shared) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->architecture, sizeof cfg->architecture, "llama2.c");
    snprintf(cfg->model_type, sizeof cfg->model_type, "llama");
    cfg->d = p[0];
    cfg->I = p[1];
    cfg->n_layers = p[2];
    cfg->H = p[3];
    cfg->Hkv = p[4];
    cfg->V = p[5];
    cfg->max_seq = p[6];
    cfg->h = cfg->H > 0 ? cfg->d / cfg->H : 0;
    cfg->norm_eps = 1e-5f;
    cfg->rope_theta = 10000.0f;
    cfg->rope_interleaved = true;
    snprintf(cfg->rope_scaling_type, sizeof cfg->rope_scaling_type, "none");
    cfg->rope_factor = cfg->rope_low_freq_factor = cfg->rope_high_freq_factor = 1.0f;
    cfg->tied_embeddings = shared;
    /* The Llama 2 SentencePiece vocabulary that llama2.c models use: <s> = 1, </s> = 2. */
    cfg->bos_id = 1;
    cfg->eos_id = 2;
    cfg->eos_ids[0] = 2;
    cfg->n_eos_ids = 1;
}

int llama2c_read_header(llama_source *src, lrc_error *err) {
    const char *path = src->config_path;
    uint8_t hdr[LLAMA2C_V1_HEADER];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lrc_errorf(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    ssize_t got = fstat(fd, &st) == 0 ? pread(fd, hdr, sizeof hdr, 0) : -1;
    close(fd);
    if (got < 0)
        return lrc_errorf(err, "%s: cannot read: %s", path, strerror(errno));
    src->file_size = (size_t)st.st_size;

    int32_t p[7];
    bool shared;
    if (got >= 8 && le32(hdr) == LLAMA2C_MAGIC) {
        uint32_t version = le32(hdr + 4);
        if (version != 1)
            return lrc_errorf(err,
                              "%s: llama2.c file version %u at byte offset 4; lrc reads the "
                              "legacy format and version 1 (F32), so re-export with --version 1",
                              path, version);
        if (got < LLAMA2C_V1_HEADER)
            return lrc_errorf(err, "%s: truncated llama2.c version 1 header: %zd of 256 bytes",
                              path, got);
        for (int i = 0; i < 7; i++)
            p[i] = (int32_t)le32(hdr + 8 + 4 * i);
        if (hdr[36] > 1)
            return lrc_errorf(err, "%s: shared_classifier byte at offset 36 is %u; expected 0 or 1",
                              path, hdr[36]);
        shared = hdr[36] == 1;
        src->format = LLAMA_FORMAT_LLAMA2C_V1;
        src->header_bytes = LLAMA2C_V1_HEADER;
    } else {
        if (got < 28)
            return lrc_errorf(err,
                              "%s: %zd bytes is too short for a llama2.c header (28 bytes) and the "
                              "path is not a model folder; expected a folder with config.json or "
                              "a llama2.c .bin file",
                              path, got);
        for (int i = 0; i < 7; i++)
            p[i] = (int32_t)le32(hdr + 4 * i);
        shared = p[5] > 0;
        if (p[5] < 0 && p[5] != INT32_MIN)
            p[5] = -p[5];
        src->format = LLAMA_FORMAT_LLAMA2C_LEGACY;
        src->header_bytes = 28;
    }

    /* A file that is not a checkpoint usually fails here, so name the field
     * and its offset; these are llama2.c fields, not config.json keys. */
    static const char *const fields[7] = {"dim",        "hidden_dim", "n_layers", "n_heads",
                                          "n_kv_heads", "vocab_size", "seq_len"};
    size_t base = src->header_bytes == 28 ? 0 : 8;
#define OFF(i) (base + 4 * (size_t)(i))
    for (int i = 0; i < 7; i++)
        if (p[i] <= 0)
            return lrc_errorf(err,
                              "%s: header field %s at byte offset %zu is %d; expected a positive "
                              "integer, so this is not a llama2.c checkpoint",
                              path, fields[i], OFF(i), p[i]);
    const char *broken = NULL;
    int a = 0, b = 0;
    if (p[0] % p[3] != 0) {
        broken = "is not a multiple of";
        a = 0, b = 3;
    } else if (p[3] % p[4] != 0) {
        broken = "is not a multiple of";
        a = 3, b = 4;
    } else if ((p[0] / p[3]) % 2 != 0) {
        broken = "divided by it gives an odd head size for";
        a = 0, b = 3;
    }
    if (broken)
        return lrc_errorf(err,
                          "%s: header field %s at byte offset %zu is %d, which %s %s at byte "
                          "offset %zu (%d); this is not a llama2.c checkpoint or its header is "
                          "damaged",
                          path, fields[a], OFF(a), p[a], broken, fields[b], OFF(b), p[b]);
#undef OFF
    set_config(&src->cfg, p, shared);

    /* The file size must match before anything is sized from the header.
     * A double first, so that absurd headers cannot overflow the exact sum. */
    const llama_config *c = &src->cfg;
    double dd = c->d, kvd = (double)c->Hkv * c->h, qd = (double)c->H * c->h;
    double approx =
        (double)src->header_bytes +
        4.0 * ((c->tied_embeddings ? 1.0 : 2.0) * c->V * dd + dd +
               (double)c->n_layers * (2 * dd + 2 * qd * dd + 2 * kvd * dd + 3.0 * c->I * dd) +
               (src->format == LLAMA_FORMAT_LLAMA2C_LEGACY ? 2.0 * c->max_seq * (c->h / 2) : 0.0));
    uint64_t expected;
    if (approx > 0x1p60) {
        expected = UINT64_MAX;
    } else {
        uint64_t d = (uint64_t)c->d, q = (uint64_t)c->H * (uint64_t)c->h;
        uint64_t kv = (uint64_t)c->Hkv * (uint64_t)c->h, I = (uint64_t)c->I;
        uint64_t floats = (c->tied_embeddings ? 1u : 2u) * (uint64_t)c->V * d + d +
                          (uint64_t)c->n_layers * (2 * d + 2 * q * d + 2 * kv * d + 3 * I * d);
        if (src->format == LLAMA_FORMAT_LLAMA2C_LEGACY)
            floats += 2 * (uint64_t)c->max_seq * (uint64_t)(c->h / 2);
        expected = src->header_bytes + 4 * floats;
    }

    if (expected != (uint64_t)src->file_size) {
        if (expected == UINT64_MAX)
            return lrc_errorf(
                err,
                "%s: the %s header (dim=%d, hidden_dim=%d, n_layers=%d, n_heads=%d, "
                "n_kv_heads=%d, vocab_size=%d, seq_len=%d) implies %.3g bytes but the file has "
                "%zu; this is not a llama2.c checkpoint or its header is damaged",
                path, llama_format_name(src->format), p[0], p[1], p[2], p[3], p[4], c->V, p[6],
                approx, src->file_size);
        const char *what = expected > src->file_size ? "the file is truncated at byte offset"
                                                     : "extra bytes start at byte offset";
        return lrc_errorf(
            err,
            "%s: %s %llu: the %s header (dim=%d, hidden_dim=%d, n_layers=%d, "
            "n_heads=%d, n_kv_heads=%d, vocab_size=%d, seq_len=%d, %s classifier) "
            "implies %llu bytes but the file has %zu; re-export or re-download it",
            path, what, (unsigned long long)(expected > src->file_size ? src->file_size : expected),
            llama_format_name(src->format), p[0], p[1], p[2], p[3], p[4], src->cfg.V, p[6],
            shared ? "shared" : "separate", (unsigned long long)expected, src->file_size);
    }
    if (llama_config_validate(&src->cfg, path, err) < 0)
        return lrc_error_prefix(err, "%s header", llama_format_name(src->format));
    return 0;
}

int llama2c_read_weights(const llama_source *src, llama_model *m, lrc_error *err) {
    const char *path = src->config_path;
    segment *seg = calloc(max_segments(&m->cfg), sizeof *seg);
    if (!seg)
        return lrc_errorf(err, "%s: out of memory", path);
    size_t n = build_segments(&m->cfg, src->format, &m->w, seg);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        free(seg);
        return lrc_errorf(err, "%s: cannot open: %s", path, strerror(errno));
    }
    uint64_t offset = src->header_bytes;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t bytes = seg[i].count * sizeof(float);
        uint8_t *dst = (uint8_t *)seg[i].dst;
        for (uint64_t done = 0; dst && done < bytes;) {
            size_t chunk = bytes - done > (1u << 30) ? (1u << 30) : (size_t)(bytes - done);
            ssize_t r = pread(fd, dst + done, chunk, (off_t)(offset + done));
            if (r <= 0) {
                rc = lrc_errorf(err, "%s: read failed at byte offset %llu: %s", path,
                                (unsigned long long)(offset + done),
                                r < 0 ? strerror(errno) : "unexpected end of file");
                break;
            }
            done += (uint64_t)r;
        }
        offset += bytes;
    }
    close(fd);
    free(seg);
    return rc;
}
