/*
 * Export of the merged LRC student as an ordinary Hugging Face Llama
 * directory: config.json with hidden_size = r and head_dim stated (the head
 * size no longer equals hidden_size / num_attention_heads), and
 * model.safetensors with the generated weights in F32 under the standard
 * names. Tokenizer files are copied from the teacher by a separate helper;
 * a llama2.c .bin teacher gives the tokenizer.bin beside it, and a note saying so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/tensor.h"
#include "model/safetensors.h"
#include "train/lrc.h"

/* Hugging Face pairs RoPE dimensions (i, i + h/2); llama2.c pairs (2i, 2i+1).
 * Reorder the rows of each head so that row i takes old row 2i and row
 * i + h/2 takes old row 2i + 1, which turns the second pairing into the
 * first while q·k stays the same.
 *   w (n_heads*h, cols), rewritten in place; tmp (h, cols) */
static void permute_rope_rows(float *w, float *tmp, size_t n_heads, size_t h, size_t cols) {
    for (size_t hd = 0; hd < n_heads; hd++) {
        float *head = w + hd * h * cols;
        for (size_t i = 0; i < h; i++) {
            size_t old = i < h / 2 ? 2 * i : 2 * (i - h / 2) + 1;
            memcpy(tmp + i * cols, head + old * cols, cols * sizeof(float));
        }
        memcpy(head, tmp, h * cols * sizeof(float));
    }
}

/* Names of the merged tensors, kept alive until the file is written. */
typedef struct export_list {
    safetensors_write_tensor *t;
    char (*names)[PARAM_NAME_MAX];
    size_t n;
} export_list;

static void push(export_list *x, const char *name, const float *data, int64_t rows, int64_t cols) {
    safetensors_write_tensor *t = &x->t[x->n];
    snprintf(x->names[x->n], PARAM_NAME_MAX, "%s", name);
    t->name = x->names[x->n];
    t->dtype = ST_F32;
    t->ndim = cols > 0 ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->data = data;
    x->n++;
}

int lrc_export_hf(lrc_student *s, const char *dir, lrc_error *err) {
    const llama_config *c = &s->cfg;
    int64_t r = s->r, V = c->V, I = c->I, qd = (int64_t)c->H * c->h, kvd = (int64_t)c->Hkv * c->h;
    bool tied = s->teacher->cfg.tied_embeddings && s->tie_head;
    size_t L = (size_t)c->n_layers;
    char path[4200];

    lrc_generate(s);

    /* The full generated embedding E·Zᵀ, and rotate_half rows for q and k. */
    float *embed = tensor_alloc((size_t)V * (size_t)r, "exported embedding", err);
    float *qk = NULL, *tmp = NULL;
    export_list x = {calloc(12 * L + 3, sizeof *x.t), calloc(12 * L + 3, sizeof *x.names), 0};
    int rc = -1;
    if (!embed || !x.t || !x.names) {
        lrc_errorf(err, "%s: out of memory while exporting the student", dir);
        goto done;
    }
    for (int64_t v0 = 0; v0 < V; v0 += 256) {
        size_t n = (size_t)(V - v0 < 256 ? V - v0 : 256);
        int32_t ids[256];
        for (size_t i = 0; i < n; i++)
            ids[i] = (int32_t)(v0 + (int64_t)i);
        /* lrc_embed_rows gathers through s->e_rows, which has room for N >= 1 rows. */
        for (size_t i0 = 0; i0 < n; i0 += s->student_state.N) {
            size_t m = n - i0 < s->student_state.N ? n - i0 : s->student_state.N;
            lrc_embed_rows(s, embed + ((size_t)v0 + i0) * (size_t)r, ids + i0, m);
        }
    }

    size_t qk_floats = L * (size_t)(qd + kvd) * ((size_t)r + 1);
    if (c->rope_interleaved) {
        qk = tensor_alloc(qk_floats, "exported q and k", err);
        tmp = tensor_alloc((size_t)c->h * ((size_t)r + 1), "exported q and k", err);
        if (!qk || !tmp)
            goto done;
    }

    push(&x, "model.embed_tokens.weight", embed, V, r);
    float *qk_next = qk;
    for (size_t l = 0; l < L; l++) {
        const llama_layer *w = &s->w.layers[l];
        const float *wq = w->wq, *wk = w->wk, *bq = w->bq, *bk = w->bk;
        if (c->rope_interleaved) {
            /* Permuted copies: q (qd, r), k (kvd, r), then the biases. */
            float *pq = qk_next, *pk = pq + qd * r;
            memcpy(pq, w->wq, (size_t)(qd * r) * sizeof(float));
            memcpy(pk, w->wk, (size_t)(kvd * r) * sizeof(float));
            permute_rope_rows(pq, tmp, (size_t)c->H, (size_t)c->h, (size_t)r);
            permute_rope_rows(pk, tmp, (size_t)c->Hkv, (size_t)c->h, (size_t)r);
            wq = pq;
            wk = pk;
            qk_next = pk + kvd * r;
            if (bq) {
                memcpy(qk_next, bq, (size_t)qd * sizeof(float));
                permute_rope_rows(qk_next, tmp, (size_t)c->H, (size_t)c->h, 1);
                bq = qk_next;
                qk_next += qd;
            }
            if (bk) {
                memcpy(qk_next, bk, (size_t)kvd * sizeof(float));
                permute_rope_rows(qk_next, tmp, (size_t)c->Hkv, (size_t)c->h, 1);
                bk = qk_next;
                qk_next += kvd;
            }
        }

        char name[PARAM_NAME_MAX];
#define PUSH(suffix, data, rows, cols)                                                             \
    do {                                                                                           \
        snprintf(name, sizeof name, "model.layers.%zu.%s", l, suffix);                             \
        push(&x, name, data, rows, cols);                                                          \
    } while (0)
        PUSH("input_layernorm.weight", w->attn_norm, r, 0);
        PUSH("self_attn.q_proj.weight", wq, qd, r);
        PUSH("self_attn.k_proj.weight", wk, kvd, r);
        PUSH("self_attn.v_proj.weight", w->wv, kvd, r);
        if (bq)
            PUSH("self_attn.q_proj.bias", bq, qd, 0);
        if (bk)
            PUSH("self_attn.k_proj.bias", bk, kvd, 0);
        if (w->bv)
            PUSH("self_attn.v_proj.bias", w->bv, kvd, 0);
        PUSH("self_attn.o_proj.weight", w->wo, r, qd);
        PUSH("post_attention_layernorm.weight", w->mlp_norm, r, 0);
        PUSH("mlp.gate_proj.weight", w->w_gate, I, r);
        PUSH("mlp.up_proj.weight", w->w_up, I, r);
        PUSH("mlp.down_proj.weight", w->w_down, r, I);
#undef PUSH
    }
    push(&x, "model.norm.weight", s->w.final_norm, r, 0);
    if (!tied)
        push(&x, "lm_head.weight", s->w.lm_head, V, r);

    snprintf(path, sizeof path, "%s/config.json", dir);
    llama_config student_cfg = s->cfg;
    student_cfg.tied_embeddings = tied;
    if (llama_config_write(&student_cfg, path, err) < 0)
        goto done;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    const char *meta[] = {"format", "pt", NULL};
    rc = safetensors_write(path, x.t, x.n, meta, err);

done:
    tensor_free(embed);
    tensor_free(qk);
    tensor_free(tmp);
    free(x.t);
    free(x.names);
    return rc;
}

static int copy_file(const char *src, const char *dst, lrc_error *err) {
    FILE *in = fopen(src, "rb");
    if (!in)
        return lrc_errorf(err, "%s: cannot open: %s", src, strerror(errno));
    FILE *out = fopen(dst, "wb");
    if (!out) {
        fclose(in);
        return lrc_errorf(err, "%s: cannot create: %s; check the folder is writable", dst,
                          strerror(errno));
    }
    char buf[65536];
    size_t n;
    int bad = 0;
    while (!bad && (n = fread(buf, 1, sizeof buf, in)) > 0)
        bad = fwrite(buf, 1, n, out) != n;
    bad |= ferror(in);
    fclose(in);
    bad |= fclose(out) != 0;
    if (bad)
        return lrc_errorf(err, "%s: copying from %s failed", dst, src);
    return 0;
}

/* A llama2.c teacher is one .bin file; its tokenizer is tokenizer.bin in the same folder.
 * Copy that when present, and say in out_dir/tokenizer_source.txt which tokenizer the
 * student carries, since the folder has no tokenizer.json. */
static int copy_llama2c_tokenizer(const char *teacher_file, const char *out_dir, lrc_error *err) {
    const char *slash = strrchr(teacher_file, '/');
    int dir_len = slash ? (int)(slash - teacher_file) : 1;
    const char *dir = slash ? teacher_file : ".";
    char src[4200], dst[4200], note[4200];
    snprintf(src, sizeof src, "%.*s/tokenizer.bin", dir_len, dir);
    snprintf(dst, sizeof dst, "%s/tokenizer.bin", out_dir);
    FILE *fp = fopen(src, "rb");
    if (!fp && errno != ENOENT)
        return lrc_errorf(err, "%s: cannot open: %s", src, strerror(errno));
    if (fp) {
        fclose(fp);
        if (copy_file(src, dst, err) < 0)
            return -1;
    }
    snprintf(note, sizeof note, "%s/tokenizer_source.txt", out_dir);
    FILE *out = fopen(note, "w");
    if (!out)
        return lrc_errorf(err, "%s: cannot create: %s; check the folder is writable", note,
                          strerror(errno));
    if (fp)
        fprintf(out, "tokenizer.bin is the llama2.c tokenizer of the teacher %s, copied from %s.\n",
                teacher_file, src);
    else
        fprintf(out,
                "This student has no tokenizer: the llama2.c teacher %s had no tokenizer.bin "
                "beside it. Copy the teacher's tokenizer.bin here to use text with it.\n",
                teacher_file);
    if (fclose(out) != 0)
        return lrc_errorf(err, "%s: write failed: %s", note, strerror(errno));
    return 0;
}

int lrc_copy_tokenizer_files(const char *teacher_dir, const char *out_dir, lrc_error *err) {
    static const char *const files[] = {"tokenizer.json",          "tokenizer_config.json",
                                        "tokenizer.model",         "tokenizer.bin",
                                        "special_tokens_map.json", "generation_config.json"};
    struct stat st;
    if (stat(teacher_dir, &st) == 0 && S_ISREG(st.st_mode))
        return copy_llama2c_tokenizer(teacher_dir, out_dir, err);
    char src[4200], dst[4200];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(src, sizeof src, "%s/%s", teacher_dir, files[i]);
        FILE *fp = fopen(src, "rb");
        if (!fp) {
            if (errno == ENOENT)
                continue;
            return lrc_errorf(err, "%s: cannot open: %s", src, strerror(errno));
        }
        fclose(fp);
        snprintf(dst, sizeof dst, "%s/%s", out_dir, files[i]);
        if (copy_file(src, dst, err) < 0)
            return -1;
    }
    return 0;
}
