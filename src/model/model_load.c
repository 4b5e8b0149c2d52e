/*
 * Model loading. A model source is opened in stages (see model_load.h) so
 * that every check runs before the one large allocation: the config, the
 * memory estimate, the tensor headers and their shapes. The weights then go
 * into one arena in a fixed order (embedding, each layer's tensors in
 * forward order, final norm, untied LM head), and llama_weights points into
 * it. Hugging Face tensor names map to slots through one table, built from
 * the config, that also carries the expected shape and the config keys the
 * shape comes from, so a mismatch can name them.
 */
#define _POSIX_C_SOURCE 200809L
#include "model/model_load.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/sysmem.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

const char *llama_format_name(llama_format f) {
    switch (f) {
    case LLAMA_FORMAT_SAFETENSORS:
        return "safetensors";
    case LLAMA_FORMAT_LLAMA2C_LEGACY:
        return "llama2.c legacy";
    case LLAMA_FORMAT_LLAMA2C_V1:
        return "llama2.c version 1";
    }
    return "?";
}

/* ---- the tensor table ---------------------------------------------------- */

typedef struct tensor_spec {
    char name[96];
    float **slot; /* where the arena pointer goes; NULL when only checking */
    int ndim;
    int64_t shape[2];
    char why[160]; /* the config keys behind the shape */
} tensor_spec;

static void spec_set(tensor_spec *s, float **slot, int64_t rows, int64_t cols, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void spec_set(tensor_spec *s, float **slot, int64_t rows, int64_t cols, const char *fmt,
                     ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->name, sizeof s->name, fmt, ap);
    va_end(ap);
    s->slot = slot;
    s->ndim = cols ? 2 : 1;
    s->shape[0] = rows;
    s->shape[1] = cols;
}

static size_t max_specs(const llama_config *cfg) {
    return 3 + (size_t)cfg->n_layers * 13;
}

/*
 * Fill specs in arena order; w may be NULL (shapes only). Returns the count.
 * The why strings name config keys so a shape error can name where the
 * expected numbers come from.
 */
static size_t build_specs(const llama_config *cfg, llama_weights *w, tensor_spec *specs) {
    const int64_t d = cfg->d, q = (int64_t)cfg->H * cfg->h, kv = (int64_t)cfg->Hkv * cfg->h;
    const int64_t I = cfg->I, V = cfg->V;
    char dq[160], dkv[160], di[160], dv[160], dd[48];
    snprintf(dd, sizeof dd, "hidden_size=%d", cfg->d);
    snprintf(dv, sizeof dv, "vocab_size=%d, hidden_size=%d", cfg->V, cfg->d);
    snprintf(dq, sizeof dq, "num_attention_heads=%d x head_dim=%d, hidden_size=%d", cfg->H, cfg->h,
             cfg->d);
    snprintf(dkv, sizeof dkv, "num_key_value_heads=%d x head_dim=%d, hidden_size=%d", cfg->Hkv,
             cfg->h, cfg->d);
    snprintf(di, sizeof di, "intermediate_size=%d, hidden_size=%d", cfg->I, cfg->d);

    size_t n = 0;
#define SLOT(field) (w ? &(field) : NULL)
#define ADD(slot, rows, cols, whytext, ...)                                                        \
    do {                                                                                           \
        spec_set(&specs[n], slot, rows, cols, __VA_ARGS__);                                        \
        snprintf(specs[n].why, sizeof specs[n].why, "%s", whytext);                                \
        n++;                                                                                       \
    } while (0)

    ADD(SLOT(w->embed), V, d, dv, "model.embed_tokens.weight");
    for (int l = 0; l < cfg->n_layers; l++) {
        llama_layer *L = w ? &w->layers[l] : NULL;
        const char *p = "model.layers";
        ADD(SLOT(L->attn_norm), d, 0, dd, "%s.%d.input_layernorm.weight", p, l);
        ADD(SLOT(L->wq), q, d, dq, "%s.%d.self_attn.q_proj.weight", p, l);
        if (cfg->qkv_bias)
            ADD(SLOT(L->bq), q, 0, dq, "%s.%d.self_attn.q_proj.bias", p, l);
        ADD(SLOT(L->wk), kv, d, dkv, "%s.%d.self_attn.k_proj.weight", p, l);
        if (cfg->qkv_bias)
            ADD(SLOT(L->bk), kv, 0, dkv, "%s.%d.self_attn.k_proj.bias", p, l);
        ADD(SLOT(L->wv), kv, d, dkv, "%s.%d.self_attn.v_proj.weight", p, l);
        if (cfg->qkv_bias)
            ADD(SLOT(L->bv), kv, 0, dkv, "%s.%d.self_attn.v_proj.bias", p, l);
        ADD(SLOT(L->wo), d, q, dq, "%s.%d.self_attn.o_proj.weight", p, l);
        if (cfg->o_bias)
            ADD(SLOT(L->bo), d, 0, dd, "%s.%d.self_attn.o_proj.bias", p, l);
        ADD(SLOT(L->mlp_norm), d, 0, dd, "%s.%d.post_attention_layernorm.weight", p, l);
        ADD(SLOT(L->w_gate), I, d, di, "%s.%d.mlp.gate_proj.weight", p, l);
        ADD(SLOT(L->w_up), I, d, di, "%s.%d.mlp.up_proj.weight", p, l);
        ADD(SLOT(L->w_down), d, I, di, "%s.%d.mlp.down_proj.weight", p, l);
    }
    ADD(SLOT(w->final_norm), d, 0, dd, "model.norm.weight");
    if (!cfg->tied_embeddings)
        ADD(SLOT(w->lm_head), V, d, dv, "lm_head.weight");
#undef ADD
#undef SLOT
    return n;
}

static size_t spec_numel(const tensor_spec *s) {
    return (size_t)s->shape[0] * (size_t)(s->ndim == 2 ? s->shape[1] : 1);
}

/* ---- stages ------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int llama_source_open_config(llama_source *src, const char *path, lrc_error *err) {
    memset(src, 0, sizeof *src);
    if (strlen(path) >= sizeof src->path - 32)
        return lrc_errorf(err, "%.200s...: path too long", path);
    memcpy(src->path, path, strlen(path) + 1);
    for (size_t n = strlen(src->path); n > 1 && src->path[n - 1] == '/'; n--)
        src->path[n - 1] = '\0'; /* "dir/" names files as "dir/config.json" */

    struct stat st;
    if (stat(path, &st) != 0)
        return lrc_errorf(err,
                          "%s: cannot open: %s; expected a Hugging Face model folder or a "
                          "llama2.c .bin file",
                          path, strerror(errno));

    /* A config.json or .safetensors file inside a folder stands for the folder. */
    if (S_ISREG(st.st_mode) && (ends_with(path, ".json") || ends_with(path, ".safetensors"))) {
        char *slash = strrchr(src->path, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(src->path, sizeof src->path, ".");
        if (stat(src->path, &st) != 0)
            return lrc_errorf(err, "%s: cannot open its folder: %s", path, strerror(errno));
    }

    if (S_ISDIR(st.st_mode)) {
        src->format = LLAMA_FORMAT_SAFETENSORS;
        int n = snprintf(src->config_path, sizeof src->config_path, "%s/config.json", src->path);
        if (n < 0 || (size_t)n >= sizeof src->config_path)
            return lrc_errorf(err, "%.200s...: path too long", src->path);
        if (stat(src->config_path, &st) != 0) {
            /* Only ENOENT means absent: EACCES on an unsearchable folder does not. */
            if (errno != ENOENT)
                return lrc_errorf(err,
                                  "%s: cannot open config.json in this folder: %s; check the "
                                  "folder's permissions (it must be readable and searchable)",
                                  src->path, strerror(errno));
            return lrc_errorf(err,
                              "%s: no config.json; expected a Hugging Face model folder "
                              "(config.json with model.safetensors)",
                              src->path);
        }
        if (llama_config_load(&src->cfg, src->config_path, err) < 0)
            return -1;
        return llama_config_validate(&src->cfg, src->config_path, err);
    }
    if (!S_ISREG(st.st_mode))
        return lrc_errorf(err, "%s: not a folder or a regular file", path);

    snprintf(src->config_path, sizeof src->config_path, "%s", path);
    return llama2c_read_header(src, err);
}

int llama_source_open_weights(llama_source *src, lrc_error *err) {
    if (src->format != LLAMA_FORMAT_SAFETENSORS || src->weights_open)
        return 0;
    if (safetensors_set_open_dir(&src->st, src->path, err) < 0)
        return -1;
    src->weights_open = true;
    return 0;
}

void llama_source_close(llama_source *src) {
    if (src->weights_open)
        safetensors_set_close(&src->st);
    src->weights_open = false;
}

/* The file a tensor error should name: the index for sharded checkpoints. */
static const char *weights_path(const llama_source *src) {
    if (src->st.index_path[0])
        return src->st.index_path;
    return src->st.n_files ? src->st.files[0].path : src->path;
}

static const char *shape_text(char *buf, size_t cap, const int64_t *shape, int ndim) {
    if (ndim == 1)
        snprintf(buf, cap, "[%lld]", (long long)shape[0]);
    else if (ndim == 2)
        snprintf(buf, cap, "[%lld, %lld]", (long long)shape[0], (long long)shape[1]);
    else {
        size_t n = (size_t)snprintf(buf, cap, "[");
        for (int i = 0; i < ndim && n < cap; i++)
            n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
        if (n < cap)
            snprintf(buf + n, cap - n, "]");
    }
    return buf;
}

static int check_tensor(const llama_source *src, const tensor_spec *s, lrc_error *err) {
    const safetensors_tensor *t = safetensors_set_find(&src->st, s->name);
    if (!t)
        return lrc_errorf(err,
                          "%s: tensor '%s' is missing; %s implies it (%s%s), so the checkpoint is "
                          "incomplete or has other tensor names",
                          weights_path(src), s->name, src->config_path, s->why,
                          src->cfg.qkv_bias && strstr(s->name, "bias") ? ", q/k/v biases" : "");

    int same = t->ndim == s->ndim;
    for (int i = 0; same && i < s->ndim; i++)
        same = t->shape[i] == s->shape[i];
    if (!same) {
        char got[96], want[64];
        return lrc_errorf(err,
                          "shape %s of %s in %s disagrees with config.json: expected %s from %s; "
                          "the config and the weights are from different models",
                          shape_text(got, sizeof got, t->shape, t->ndim), s->name, t->path,
                          shape_text(want, sizeof want, s->shape, s->ndim), s->why);
    }
    if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16)
        return lrc_errorf(err,
                          "%s: tensor '%s' has dtype %s; lrc loads F32, F16 and BF16 weights, so "
                          "convert the checkpoint first",
                          t->path, s->name, safetensors_dtype_name(t->dtype));
    return 0;
}

/* Tensors the loader may skip: RoPE buffers some exports keep, and a copy
 * of the embedding in lm_head.weight when the config ties the two. */
static bool ignorable(const llama_source *src, const char *name) {
    size_t n = strlen(name), k = strlen(".rotary_emb.inv_freq");
    if (n >= k && strcmp(name + n - k, ".rotary_emb.inv_freq") == 0)
        return true;
    return src->cfg.tied_embeddings && strcmp(name, "lm_head.weight") == 0;
}

/* Reject a tensor the config does not use, naming the first one. Such a
 * tensor (num_hidden_layers below the stored layers, say) means the config
 * and the weights disagree, so dropping it would give wrong text. */
static int check_unused(const llama_source *src, const tensor_spec *specs, size_t n_specs,
                        lrc_error *err) {
    for (size_t f = 0; f < src->st.n_files; f++) {
        const safetensors_file *file = &src->st.files[f];
        for (size_t t = 0; t < file->n_tensors; t++) {
            const char *name = file->tensors[t].name;
            bool used = ignorable(src, name);
            for (size_t i = 0; i < n_specs && !used; i++)
                used = strcmp(specs[i].name, name) == 0;
            if (!used)
                return lrc_errorf(err,
                                  "%s: tensor '%s' is not used by %s (num_hidden_layers=%d); "
                                  "the config and the weights disagree, so fix config.json "
                                  "or remove the tensor",
                                  file->path, name, src->config_path, src->cfg.n_layers);
        }
    }
    return 0;
}

int llama_source_check(const llama_source *src, lrc_error *err) {
    if (src->format != LLAMA_FORMAT_SAFETENSORS)
        return 0; /* the llama2.c header check already matched the file size */
    if (!src->weights_open)
        return lrc_errorf(err, "%s: weights not opened before the check", src->path);

    tensor_spec *specs = calloc(max_specs(&src->cfg), sizeof *specs);
    if (!specs)
        return lrc_errorf(err, "%s: out of memory", src->path);
    size_t n = build_specs(&src->cfg, NULL, specs);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = check_tensor(src, &specs[i], err);

    /* An o_proj bias the config does not announce would be silently dropped. */
    if (rc == 0 && !src->cfg.o_bias &&
        safetensors_set_find(&src->st, "model.layers.0.self_attn.o_proj.bias"))
        rc = lrc_errorf(err,
                        "%s: tensor 'model.layers.0.self_attn.o_proj.bias' is present but %s does "
                        "not set attention_bias; set it or remove the biases",
                        weights_path(src), src->config_path);
    if (rc == 0)
        rc = check_unused(src, specs, n, err);
    free(specs);
    return rc;
}

/* ---- memory --------------------------------------------------------------- */

size_t llama_model_weight_bytes(const llama_config *cfg) {
    return llama_config_param_count(cfg) * sizeof(float);
}

double llama_model_memory_needed(const llama_config *cfg) {
    double weights = (double)llama_config_param_count(cfg) * sizeof(float);
    double ctx = cfg->max_seq < 4096 ? cfg->max_seq : 4096;
    double kv_cache = 2.0 * cfg->n_layers * ctx * cfg->Hkv * cfg->h * sizeof(float);
    double activations =
        (4.0 * cfg->d + 2.0 * cfg->I + 2.0 * cfg->V + (double)cfg->H * (cfg->h + ctx)) *
        sizeof(float);
    return weights + kv_cache + activations + 64.0 * 1024 * 1024;
}

/* Format bytes as "12.34 GiB" or, below 1 GiB, "56.7 MiB". */
static const char *human_bytes(char *buf, size_t cap, double bytes) {
    if (bytes >= GIB)
        snprintf(buf, cap, "%.2f GiB", bytes / GIB);
    else
        snprintf(buf, cap, "%.1f MiB", bytes / (1024.0 * 1024.0));
    return buf;
}

int llama_model_check_memory(const llama_config *cfg, const char *path, lrc_error *err) {
    size_t available;
    const char *source;
    if (sysmem_available(&available, &source, err) < 0)
        return -1;
    double need = llama_model_memory_needed(cfg);
    if (need <= (double)available)
        return 0;
    double weights = (double)llama_model_weight_bytes(cfg);
    char need_s[32], weights_s[32], state_s[32], avail_s[32];
    return lrc_errorf(err,
                      "%s: model needs %s in fp32 (%s of weights plus an estimated %s run state) "
                      "but only %s is available (%s); free memory, use a smaller model, or set "
                      "%s=BYTES to override",
                      path, human_bytes(need_s, sizeof need_s, need),
                      human_bytes(weights_s, sizeof weights_s, weights),
                      human_bytes(state_s, sizeof state_s, need - weights),
                      human_bytes(avail_s, sizeof avail_s, (double)available), source, SYSMEM_ENV);
}

/* ---- loading ------------------------------------------------------------ */

static int alloc_arena(llama_model *m, tensor_spec *specs, size_t *n_specs, lrc_error *err) {
    const llama_config *cfg = &m->cfg;
    m->w.layers = calloc((size_t)cfg->n_layers, sizeof *m->w.layers);
    if (!m->w.layers)
        return lrc_errorf(err, "%s: out of memory for %d layers", m->path, cfg->n_layers);

    *n_specs = build_specs(cfg, &m->w, specs);
    size_t total = 0;
    for (size_t i = 0; i < *n_specs; i++)
        total += spec_numel(&specs[i]);

    void *arena = NULL;
    if (total == 0 || posix_memalign(&arena, 64, total * sizeof(float)) != 0)
        return lrc_errorf(err,
                          "%s: cannot allocate %.2f GiB for the weights; free memory or use "
                          "a smaller model",
                          m->path, (double)total * sizeof(float) / GIB);
    m->arena = arena;
    m->arena_floats = total;

    size_t off = 0;
    for (size_t i = 0; i < *n_specs; i++) {
        *specs[i].slot = m->arena + off;
        off += spec_numel(&specs[i]);
    }
    if (cfg->tied_embeddings)
        m->w.lm_head = m->w.embed;
    return 0;
}

static int read_safetensors(const llama_source *src, llama_model *m, const tensor_spec *specs,
                            size_t n, lrc_error *err) {
    for (size_t i = 0; i < n; i++) {
        const safetensors_tensor *t = safetensors_set_find(&src->st, specs[i].name);
        if (!t || safetensors_read_f32(t, *specs[i].slot, spec_numel(&specs[i]), err) < 0)
            return t ? -1
                     : lrc_errorf(err, "%s: tensor '%s' is missing", weights_path(src),
                                  specs[i].name);
    }
    (void)m;
    return 0;
}

int llama_model_load(llama_model *m, const char *path, lrc_error *err) {
    memset(m, 0, sizeof *m);
    llama_source src;
    tensor_spec *specs = NULL;
    int rc = -1;

    if (llama_source_open_config(&src, path, err) < 0 ||
        llama_model_check_memory(&src.cfg, path, err) < 0 ||
        llama_source_open_weights(&src, err) < 0 || llama_source_check(&src, err) < 0)
        goto done;

    m->cfg = src.cfg;
    snprintf(m->path, sizeof m->path, "%s", src.path);
    specs = calloc(max_specs(&m->cfg), sizeof *specs);
    if (!specs) {
        lrc_errorf(err, "%s: out of memory", path);
        goto done;
    }
    size_t n_specs = 0;
    if (alloc_arena(m, specs, &n_specs, err) < 0)
        goto done;

    if (src.format == LLAMA_FORMAT_SAFETENSORS)
        rc = read_safetensors(&src, m, specs, n_specs, err);
    else
        rc = llama2c_read_weights(&src, m, err);

done:
    free(specs);
    llama_source_close(&src);
    if (rc < 0)
        llama_model_free(m);
    return rc;
}

void llama_model_free(llama_model *m) {
    if (!m)
        return;
    free(m->arena);
    free(m->w.layers);
    m->arena = NULL;
    m->arena_floats = 0;
    m->w = (llama_weights){0};
}
