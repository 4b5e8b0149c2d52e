/*
 * Safetensors reader and writer. The reader maps the whole file read-only,
 * parses the JSON header with cJSON and validates it completely before any
 * caller sees a tensor: known dtype, non-negative integer shape, offsets
 * inside the data section, byte span equal to shape x dtype size, no two
 * tensors sharing bytes, no name twice. Tensors are then sorted by name so
 * lookups are a binary search. The writer builds the header with cJSON and
 * replaces the target atomically (temporary file, fsync, rename).
 *
 * Multi-byte values are read and written in host order, so the code assumes
 * a little-endian host, which the format requires; the #error below enforces it.
 */
#define _POSIX_C_SOURCE 200809L
#include "model/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/half.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

/* Headers above 100 MB are rejected as corrupt, because a header lists only
 * names, shapes and offsets, a few hundred bytes per tensor. */
#define ST_MAX_HEADER ((size_t)100 * 1000 * 1000)

static const struct {
    const char *name;
    size_t size;
} dtype_table[ST_N_DTYPES] = {
    [ST_BOOL] = {"BOOL", 1},       [ST_U8] = {"U8", 1},           [ST_I8] = {"I8", 1},
    [ST_F8_E5M2] = {"F8_E5M2", 1}, [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_I16] = {"I16", 2},
    [ST_U16] = {"U16", 2},         [ST_F16] = {"F16", 2},         [ST_BF16] = {"BF16", 2},
    [ST_I32] = {"I32", 4},         [ST_U32] = {"U32", 4},         [ST_F32] = {"F32", 4},
    [ST_F64] = {"F64", 8},         [ST_I64] = {"I64", 8},         [ST_U64] = {"U64", 8},
};

const char *safetensors_dtype_name(safetensors_dtype dt) {
    return (unsigned)dt < ST_N_DTYPES ? dtype_table[dt].name : "?";
}

size_t safetensors_dtype_size(safetensors_dtype dt) {
    return (unsigned)dt < ST_N_DTYPES ? dtype_table[dt].size : 0;
}

static int dtype_from_name(const char *s, safetensors_dtype *dt) {
    for (int i = 0; i < ST_N_DTYPES; i++) {
        if (strcmp(s, dtype_table[i].name) == 0) {
            *dt = (safetensors_dtype)i;
            return 0;
        }
    }
    return -1;
}

/* Format a shape as "[a, b, c]" into buf. */
static const char *shape_str(char *buf, size_t cap, const int64_t *shape, int ndim) {
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "[");
    for (int i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (n < cap)
        snprintf(buf + n, cap - n, "]");
    return buf;
}

/* A JSON number that is a non-negative integer below 2^53 (exact in a double). */
static int json_uint(const cJSON *item, uint64_t *out) {
    if (!cJSON_IsNumber(item))
        return -1;
    double v = item->valuedouble;
    if (!(v >= 0.0) || v > 9007199254740992.0 || v != (double)(uint64_t)v)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int cmp_tensor_name(const void *a, const void *b) {
    return strcmp(((const safetensors_tensor *)a)->name, ((const safetensors_tensor *)b)->name);
}

static int cmp_tensor_begin(const void *a, const void *b) {
    const safetensors_tensor *x = *(const safetensors_tensor *const *)a;
    const safetensors_tensor *y = *(const safetensors_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

void safetensors_close(safetensors_file *f) {
    if (!f)
        return;
    for (size_t i = 0; i < f->n_tensors; i++)
        free(f->tensors[i].name);
    free(f->tensors);
    free(f->metadata_json);
    if (f->map)
        munmap(f->map, f->size);
    memset(f, 0, sizeof *f);
}

/* Fill t from one header entry; every error names the file and the key. */
static int parse_entry(safetensors_file *f, const cJSON *item, safetensors_tensor *t,
                       size_t data_size, lrc_error *err) {
    const char *key = item->string;
    char sbuf[160];

    if (!cJSON_IsObject(item))
        return lrc_errorf(err,
                          "%s: header entry '%s' is not a JSON object; expected "
                          "{\"dtype\", \"shape\", \"data_offsets\"}; the file is corrupt",
                          f->path, key);

    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    if (!cJSON_IsString(dtype))
        return lrc_errorf(err, "%s: tensor '%s' has no string \"dtype\"; the header is corrupt",
                          f->path, key);
    if (dtype_from_name(dtype->valuestring, &t->dtype) < 0)
        return lrc_errorf(err,
                          "%s: tensor '%s' has unknown dtype '%.32s'; expected one of BOOL, U8, "
                          "I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, "
                          "U64; the file is corrupt or from a newer format",
                          f->path, key, dtype->valuestring);

    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    if (!cJSON_IsArray(shape))
        return lrc_errorf(err, "%s: tensor '%s' has no \"shape\" array; the header is corrupt",
                          f->path, key);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > SAFETENSORS_MAX_DIMS)
        return lrc_errorf(err, "%s: tensor '%s' has %d dimensions; lrc reads at most %d", f->path,
                          key, ndim, SAFETENSORS_MAX_DIMS);
    t->ndim = ndim;
    uint64_t numel = 1;
    int overflow = 0;
    for (int i = 0; i < ndim; i++) {
        uint64_t dim;
        if (json_uint(cJSON_GetArrayItem(shape, i), &dim) < 0)
            return lrc_errorf(err,
                              "%s: tensor '%s' shape entry %d is not a non-negative integer; the "
                              "header is corrupt",
                              f->path, key, i);
        t->shape[i] = (int64_t)dim;
        if (dim != 0 && numel > UINT64_MAX / dim)
            overflow = 1;
        else
            numel *= dim;
    }
    size_t esize = dtype_table[t->dtype].size;
    if (overflow || numel > SIZE_MAX / esize)
        return lrc_errorf(err, "%s: tensor '%s' shape %s is too large to address", f->path, key,
                          shape_str(sbuf, sizeof sbuf, t->shape, ndim));
    t->numel = (size_t)numel;

    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    uint64_t begin, end;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
        json_uint(cJSON_GetArrayItem(offs, 0), &begin) < 0 ||
        json_uint(cJSON_GetArrayItem(offs, 1), &end) < 0)
        return lrc_errorf(err,
                          "%s: tensor '%s' has no \"data_offsets\" pair of non-negative "
                          "integers; the header is corrupt",
                          f->path, key);
    if (begin > end || end > data_size)
        return lrc_errorf(err,
                          "%s: tensor '%s' data_offsets [%llu, %llu] lie outside the data section "
                          "of %zu bytes (file offsets %zu..%zu, file size %zu); the file is "
                          "truncated or corrupt, re-download or re-export it",
                          f->path, key, (unsigned long long)begin, (unsigned long long)end,
                          data_size, f->data_start, f->size, f->size);
    t->begin = (size_t)begin;
    t->end = (size_t)end;
    size_t need = t->numel * esize;
    if (t->end - t->begin != need)
        return lrc_errorf(err,
                          "%s: tensor '%s' spans %zu bytes (data_offsets [%zu, %zu]), but shape "
                          "%s of %s needs %zu bytes; the header is corrupt",
                          f->path, key, t->end - t->begin, t->begin, t->end,
                          shape_str(sbuf, sizeof sbuf, t->shape, ndim), dtype_table[t->dtype].name,
                          need);
    t->data = f->map + f->data_start + t->begin;
    t->path = f->path;
    return 0;
}

/* Reject tensors whose byte ranges intersect (empty tensors never overlap). */
static int check_overlaps(safetensors_file *f, lrc_error *err) {
    if (f->n_tensors < 2)
        return 0;
    const safetensors_tensor **order = malloc(f->n_tensors * sizeof *order);
    if (!order)
        return lrc_errorf(err, "%s: out of memory sorting %zu tensors", f->path, f->n_tensors);
    for (size_t i = 0; i < f->n_tensors; i++)
        order[i] = &f->tensors[i];
    qsort(order, f->n_tensors, sizeof *order, cmp_tensor_begin);

    int rc = 0;
    const safetensors_tensor *prev = NULL;
    for (size_t i = 0; i < f->n_tensors; i++) {
        const safetensors_tensor *t = order[i];
        if (t->begin == t->end)
            continue;
        if (prev && t->begin < prev->end) {
            rc = lrc_errorf(err,
                            "%s: tensors '%s' (data_offsets [%zu, %zu]) and '%s' ([%zu, %zu]) "
                            "overlap at file offset %zu; the header is corrupt",
                            f->path, prev->name, prev->begin, prev->end, t->name, t->begin, t->end,
                            f->data_start + t->begin);
            break;
        }
        prev = t;
    }
    free(order);
    return rc;
}

static int parse_header(safetensors_file *f, lrc_error *err) {
    const char *json = (const char *)f->map + 8;
    const char *parse_end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, f->header_len, &parse_end, 0);
    if (!root) {
        size_t at = parse_end ? (size_t)(parse_end - json) + 8 : 8;
        return lrc_errorf(err,
                          "%s: malformed JSON header near byte offset %zu; the file is corrupt "
                          "or not safetensors, re-download or re-export it",
                          f->path, at);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return lrc_errorf(err,
                          "%s: JSON header at byte offset 8 is not an object; the file is "
                          "not safetensors",
                          f->path);
    }

    size_t count = 0;
    for (const cJSON *it = root->child; it; it = it->next)
        count++;
    f->tensors = calloc(count ? count : 1, sizeof *f->tensors);
    if (!f->tensors) {
        cJSON_Delete(root);
        return lrc_errorf(err, "%s: out of memory for %zu tensor entries", f->path, count);
    }

    size_t data_size = f->size - f->data_start;
    int rc = 0;
    for (const cJSON *it = root->child; it && rc == 0; it = it->next) {
        if (strcmp(it->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(it) || f->metadata_json) {
                rc = lrc_errorf(err,
                                "%s: \"__metadata__\" is not a single JSON object of "
                                "strings; the header is corrupt",
                                f->path);
                break;
            }
            f->metadata_json = cJSON_PrintUnformatted(it);
            continue;
        }
        safetensors_tensor *t = &f->tensors[f->n_tensors];
        t->name = strdup(it->string);
        if (!t->name) {
            rc = lrc_errorf(err, "%s: out of memory", f->path);
            break;
        }
        f->n_tensors++;
        rc = parse_entry(f, it, t, data_size, err);
    }
    cJSON_Delete(root);
    if (rc)
        return rc;

    qsort(f->tensors, f->n_tensors, sizeof *f->tensors, cmp_tensor_name);
    for (size_t i = 1; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i - 1].name, f->tensors[i].name) == 0)
            return lrc_errorf(err,
                              "%s: tensor '%s' appears twice in the header; the file is "
                              "corrupt",
                              f->path, f->tensors[i].name);
    return check_overlaps(f, err);
}

int safetensors_open(safetensors_file *f, const char *path, lrc_error *err) {
    memset(f, 0, sizeof *f);
    if (strlen(path) >= sizeof f->path)
        return lrc_errorf(err, "%.200s...: path longer than %zu bytes", path, sizeof f->path - 1);
    memcpy(f->path, path, strlen(path) + 1);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lrc_errorf(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return lrc_errorf(err, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lrc_errorf(err, "%s: not a regular file; expected a .safetensors file", path);
    }
    f->size = (size_t)st.st_size;

    if (f->size < 8) {
        close(fd);
        return lrc_errorf(err,
                          "%s: truncated safetensors file: %zu bytes, but the header length "
                          "alone takes 8; re-download or re-export it",
                          path, f->size);
    }
    f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    close(fd);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        return lrc_errorf(err, "%s: cannot map %zu bytes: %s", path, f->size, strerror(map_errno));
    }

    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | f->map[i];
    if (n > f->size - 8) {
        lrc_errorf(err,
                   "%s: header length %llu at byte offset 0 runs past the end of the file "
                   "(%zu bytes); the file is truncated or not safetensors",
                   path, (unsigned long long)n, f->size);
        safetensors_close(f);
        return -1;
    }
    if (n > ST_MAX_HEADER || n < 2) {
        lrc_errorf(err,
                   "%s: header length %llu at byte offset 0 is outside 2..%zu; the file is not "
                   "safetensors",
                   path, (unsigned long long)n, ST_MAX_HEADER);
        safetensors_close(f);
        return -1;
    }
    f->header_len = (size_t)n;
    f->data_start = 8 + f->header_len;

    if (parse_header(f, err) < 0) {
        safetensors_close(f);
        return -1;
    }
    return 0;
}

const safetensors_tensor *safetensors_find(const safetensors_file *f, const char *name) {
    safetensors_tensor key = {.name = (char *)name};
    return bsearch(&key, f->tensors, f->n_tensors, sizeof *f->tensors, cmp_tensor_name);
}

int safetensors_read_f32(const safetensors_tensor *t, float *dst, size_t n, lrc_error *err) {
    if (n != t->numel)
        return lrc_errorf(err, "%s: tensor '%s' has %zu elements, but %zu were requested", t->path,
                          t->name, t->numel, n);
    switch (t->dtype) {
    case ST_F32:
        if (n)
            memcpy(dst, t->data, n * sizeof *dst);
        return 0;
    case ST_F16:
        half_f16_to_f32_array(dst, t->data, n);
        return 0;
    case ST_BF16:
        half_bf16_to_f32_array(dst, t->data, n);
        return 0;
    default:
        return lrc_errorf(err,
                          "%s: tensor '%s' has dtype %s, which lrc does not convert; supported "
                          "weight dtypes are F32, F16 and BF16, so convert the checkpoint first",
                          t->path, t->name, dtype_table[t->dtype].name);
    }
}

/* ---- sets of files (sharded checkpoints) ------------------------------- */

void safetensors_set_close(safetensors_set *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->n_files; i++)
        safetensors_close(&s->files[i]);
    free(s->files);
    memset(s, 0, sizeof *s);
}

int safetensors_set_open_file(safetensors_set *s, const char *path, lrc_error *err) {
    memset(s, 0, sizeof *s);
    s->files = calloc(1, sizeof *s->files);
    if (!s->files)
        return lrc_errorf(err, "%s: out of memory", path);
    if (safetensors_open(&s->files[0], path, err) < 0) {
        free(s->files);
        s->files = NULL;
        return -1;
    }
    s->n_files = 1;
    return 0;
}

const safetensors_tensor *safetensors_set_find(const safetensors_set *s, const char *name) {
    for (size_t i = 0; i < s->n_files; i++) {
        const safetensors_tensor *t = safetensors_find(&s->files[i], name);
        if (t)
            return t;
    }
    return NULL;
}

size_t safetensors_set_n_tensors(const safetensors_set *s) {
    size_t n = 0;
    for (size_t i = 0; i < s->n_files; i++)
        n += s->files[i].n_tensors;
    return n;
}

/* Read a whole small file (an index or config) into a NUL-terminated buffer. */
static char *read_text_file(const char *path, size_t *len, lrc_error *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        lrc_errorf(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0)
            break;
    }
    int read_error = ferror(fp);
    fclose(fp);
    if (!buf) {
        lrc_errorf(err, "%s: out of memory reading the file", path);
        return NULL;
    }
    if (read_error) {
        free(buf);
        lrc_errorf(err, "%s: read error", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* A shard name must stay inside the model folder. */
static int shard_name_ok(const char *name) {
    return name[0] && name[0] != '/' && !strstr(name, "..");
}

static int open_index(safetensors_set *s, const char *dir, lrc_error *err) {
    size_t len;
    char *text = read_text_file(s->index_path, &len, err);
    if (!text)
        return -1;
    const char *parse_end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &parse_end, 0);
    if (!root) {
        size_t at = parse_end ? (size_t)(parse_end - text) : 0;
        free(text);
        return lrc_errorf(err, "%s: malformed JSON near byte offset %zu; fix or re-download it",
                          s->index_path, at);
    }
    free(text);

    int rc = 0;
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    size_t n_entries = 0;
    if (!cJSON_IsObject(map)) {
        rc = lrc_errorf(err,
                        "%s: key weight_map is missing or not an object; expected "
                        "{\"tensor name\": \"shard file\", ...}",
                        s->index_path);
        goto done;
    }
    for (const cJSON *it = map->child; it; it = it->next)
        n_entries++;
    s->files = calloc(n_entries ? n_entries : 1, sizeof *s->files);
    if (!s->files) {
        rc = lrc_errorf(err, "%s: out of memory", s->index_path);
        goto done;
    }

    /* Open each distinct shard once, in order of first mention. */
    for (const cJSON *it = map->child; it && rc == 0; it = it->next) {
        if (!cJSON_IsString(it) || !shard_name_ok(it->valuestring)) {
            rc = lrc_errorf(err,
                            "%s: weight_map entry '%s' is not a shard file name inside the "
                            "model folder",
                            s->index_path, it->string);
            break;
        }
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", dir, it->valuestring);
        if (n < 0 || (size_t)n >= sizeof path) {
            rc = lrc_errorf(err, "%s: shard path for '%s' is too long", s->index_path, it->string);
            break;
        }
        int seen = 0;
        for (size_t i = 0; i < s->n_files && !seen; i++)
            seen = strcmp(s->files[i].path, path) == 0;
        if (seen)
            continue;
        if (safetensors_open(&s->files[s->n_files], path, err) < 0) {
            rc = -1;
            break;
        }
        s->n_files++;
    }
    if (rc)
        goto done;

    /* Every mapped tensor must be in the shard the index names. */
    for (const cJSON *it = map->child; it; it = it->next) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, it->valuestring);
        const safetensors_file *shard = NULL;
        for (size_t i = 0; i < s->n_files; i++)
            if (strcmp(s->files[i].path, path) == 0)
                shard = &s->files[i];
        if (!shard || !safetensors_find(shard, it->string)) {
            rc = lrc_errorf(err,
                            "%s: weight_map puts tensor '%s' in %s, but that shard has no such "
                            "tensor; the index and shards disagree, re-download them",
                            s->index_path, it->string, it->valuestring);
            goto done;
        }
    }

    /* A name in two shards would make lookups ambiguous. */
    for (size_t i = 0; i < s->n_files && rc == 0; i++)
        for (size_t k = 0; k < s->files[i].n_tensors && rc == 0; k++)
            for (size_t j = i + 1; j < s->n_files; j++)
                if (safetensors_find(&s->files[j], s->files[i].tensors[k].name)) {
                    rc = lrc_errorf(err, "%s: tensor '%s' is in both %s and %s; remove one",
                                    s->index_path, s->files[i].tensors[k].name, s->files[i].path,
                                    s->files[j].path);
                    break;
                }
done:
    cJSON_Delete(root);
    return rc;
}

int safetensors_set_open_dir(safetensors_set *s, const char *dir, lrc_error *err) {
    memset(s, 0, sizeof *s);
    char path[4096];
    struct stat st;

    int n = snprintf(s->index_path, sizeof s->index_path, "%s/model.safetensors.index.json", dir);
    if (n < 0 || (size_t)n >= sizeof s->index_path)
        return lrc_errorf(err, "%.200s...: path too long", dir);
    if (stat(s->index_path, &st) == 0) {
        if (open_index(s, dir, err) < 0) {
            safetensors_set_close(s);
            return -1;
        }
        return 0;
    }
    s->index_path[0] = '\0';

    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (stat(path, &st) != 0) {
        char bin[4096];
        snprintf(bin, sizeof bin, "%s/pytorch_model.bin", dir);
        if (stat(bin, &st) == 0)
            return lrc_errorf(err,
                              "%s: has only PyTorch pickle weights (pytorch_model.bin); lrc reads "
                              "safetensors, so convert them (e.g. save_pretrained with "
                              "safe_serialization=True)",
                              dir);
        return lrc_errorf(err,
                          "%s: no model.safetensors or model.safetensors.index.json; expected a "
                          "Hugging Face model folder with safetensors weights",
                          dir);
    }
    return safetensors_set_open_file(s, path, err);
}

/* ---- writer ------------------------------------------------------------- */

static int write_all(int fd, const void *buf, size_t n) {
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_tensor_data(int fd, const safetensors_write_tensor *t, size_t numel) {
    if (t->dtype == ST_F32)
        return numel ? write_all(fd, t->data, numel * sizeof(float)) : 0;

    uint8_t buf[8192];
    size_t fill = 0;
    for (size_t i = 0; i < numel; i++) {
        uint16_t b =
            t->dtype == ST_F16 ? half_f32_to_f16(t->data[i]) : half_f32_to_bf16(t->data[i]);
        buf[fill++] = (uint8_t)(b & 0xff);
        buf[fill++] = (uint8_t)(b >> 8);
        if (fill == sizeof buf) {
            if (write_all(fd, buf, fill) < 0)
                return -1;
            fill = 0;
        }
    }
    return fill ? write_all(fd, buf, fill) : 0;
}

/* Build the header JSON; *numels receives each tensor's element count. */
static char *build_header(const char *path, const safetensors_write_tensor *tensors, size_t n,
                          const char *const *metadata, size_t *numels, lrc_error *err) {
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        lrc_errorf(err, "%s: out of memory building the header", path);
        return NULL;
    }
    if (metadata && metadata[0]) {
        cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
        for (size_t i = 0; meta && metadata[i] && metadata[i + 1]; i += 2)
            cJSON_AddStringToObject(meta, metadata[i], metadata[i + 1]);
    }

    size_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        const safetensors_write_tensor *t = &tensors[i];
        if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16) {
            lrc_errorf(err, "%s: tensor '%s': the writer stores F32, F16 or BF16, not %s", path,
                       t->name, safetensors_dtype_name(t->dtype));
            goto fail;
        }
        if (!t->name[0] || strcmp(t->name, "__metadata__") == 0 || t->ndim < 0 ||
            t->ndim > SAFETENSORS_MAX_DIMS) {
            lrc_errorf(err, "%s: tensor %zu has an empty or reserved name or %d dimensions", path,
                       i, t->ndim);
            goto fail;
        }
        size_t numel = 1;
        cJSON *entry = cJSON_AddObjectToObject(root, t->name);
        cJSON *shape = entry ? cJSON_AddArrayToObject(entry, "shape") : NULL;
        if (!shape)
            goto oom;
        cJSON_AddStringToObject(entry, "dtype", safetensors_dtype_name(t->dtype));
        for (int k = 0; k < t->ndim; k++) {
            numel *= (size_t)t->shape[k];
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[k]));
        }
        size_t bytes = numel * safetensors_dtype_size(t->dtype);
        cJSON *offs = cJSON_AddArrayToObject(entry, "data_offsets");
        if (!offs)
            goto oom;
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(offset + bytes)));
        offset += bytes;
        numels[i] = numel;
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text)
        lrc_errorf(err, "%s: out of memory building the header", path);
    return text;
oom:
    lrc_errorf(err, "%s: out of memory building the header", path);
fail:
    cJSON_Delete(root);
    return NULL;
}

int safetensors_write(const char *path, const safetensors_write_tensor *tensors, size_t n,
                      const char *const *metadata, lrc_error *err) {
    size_t *numels = calloc(n ? n : 1, sizeof *numels);
    if (!numels)
        return lrc_errorf(err, "%s: out of memory", path);
    char *header = build_header(path, tensors, n, metadata, numels, err);
    if (!header) {
        free(numels);
        return -1;
    }

    /* Pad the header with spaces so the data section starts 8-byte aligned. */
    size_t hlen = strlen(header);
    size_t padded = (hlen + 7) & ~(size_t)7;
    char *hbuf = malloc(padded);
    if (!hbuf) {
        free(header);
        free(numels);
        return lrc_errorf(err, "%s: out of memory", path);
    }
    memcpy(hbuf, header, hlen);
    memset(hbuf + hlen, ' ', padded - hlen);
    free(header);

    char tmp[4096 + 16];
    int fd = -1;
    if (strlen(path) < 4096) {
        snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
        fd = mkstemp(tmp);
    } else {
        errno = ENAMETOOLONG;
    }
    if (fd < 0) {
        int e = errno;
        free(hbuf);
        free(numels);
        return lrc_errorf(err, "%s: cannot create a temporary file beside it: %s", path,
                          strerror(e));
    }

    uint8_t lenbytes[8];
    for (int i = 0; i < 8; i++)
        lenbytes[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    int rc = write_all(fd, lenbytes, 8) || write_all(fd, hbuf, padded) ? -1 : 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = write_tensor_data(fd, &tensors[i], numels[i]);
    if (rc == 0)
        rc = fsync(fd);
    int e = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    free(hbuf);
    free(numels);
    if (rc == 0 && rename(tmp, path) < 0) {
        rc = -1;
        e = errno;
    }
    if (rc) {
        unlink(tmp);
        return lrc_errorf(err, "%s: write failed: %s; the previous file, if any, is unchanged",
                          path, strerror(e));
    }

    /* Sync the folder so the rename itself survives a crash. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}
