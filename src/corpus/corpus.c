/*
 * The corpus writer. Steps, each a pure function of the seed:
 *
 *  1. Held-out tasks: eval_size distinct questions per family, each family
 *     from its own splitmix64 stream; their questions go into a set.
 *  2. Training tasks: size × share per family, from other streams. A task
 *     whose question contains a held-out question (a 4-person ordering can
 *     end with a 3-person one, a 3-option case can start with a 2-option
 *     one) is dropped and drawn again.
 *  3. Documents: every task gets a "cot" document. Within each family, task
 *     i gets a PR-CoT episode when floor((i+1)·e) > floor(i·e) for the
 *     episode fraction e, and episode j has a planted mistake when
 *     floor((j+1)·m) > floor(j·m), so the counts are exact to one task. An
 *     episode is one document per perspective, one "reflect" document and
 *     one "synthesize" document.
 *  4. The documents are shuffled (Fisher-Yates on a fourth stream) and the
 *     three files written as temporaries, then renamed.
 *
 * A document is the ChatML prompt that chat_template_render makes for the
 * rendered user template, followed by the reply, with no closing
 * <|im_end|>: the training loader appends the tokenizer's EOS, which is
 * that token.
 */
#define _POSIX_C_SOURCE 200809L
#include "corpus/corpus.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rng.h"
#include "corpus/text.h"
#include "reason/chat_template.h"
#include "reason/prompts.h"

/* Shares of the training tasks: arithmetic and logic need the most practice
 * (they are scored by exact multi-step answers, and arithmetic's column work
 * is the longest skill to learn); the commonsense world and the ethics cases
 * are small tables. */
static const double family_share[CORPUS_N_FAMILIES] = {0.45, 0.13, 0.12, 0.30};

double corpus_family_share(corpus_family f) {
    return f < CORPUS_N_FAMILIES ? family_share[f] : 0.0;
}

size_t corpus_default_size(double episode_fraction) {
    double tasks = 40e6 / (560.0 + 5600.0 * episode_fraction);
    size_t n = (size_t)(tasks / 1000.0 + 0.5) * 1000;
    return n ? n : 1000;
}

/* Streams: the seed hashed with a purpose and a family. */
enum { STREAM_EVAL = 1, STREAM_TRAIN = 2, STREAM_SHUFFLE = 3 };

static uint64_t stream_seed(uint64_t seed, int purpose, int family) {
    return rng_hash64(rng_hash64(seed ^ ((uint64_t)purpose << 56)) + (uint64_t)family);
}

/* ------------------------------------------------------------------------ */
/* A set of strings (held-out questions)                                    */
/* ------------------------------------------------------------------------ */

typedef struct string_set {
    const char **slots; /* open addressing, NULL = empty; strings are borrowed */
    size_t cap, count;
} string_set;

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int set_init(string_set *s, size_t expected) {
    s->cap = 64;
    while (s->cap < expected * 2)
        s->cap *= 2;
    s->count = 0;
    s->slots = calloc(s->cap, sizeof *s->slots);
    return s->slots ? 0 : -1;
}

static void set_free(string_set *s) {
    free(s->slots);
    memset(s, 0, sizeof *s);
}

static bool set_has_n(const string_set *s, const char *str, size_t n) {
    for (size_t i = hash_bytes(str, n) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        const char *x = s->slots[i];
        if (!x)
            return false;
        if (strlen(x) == n && memcmp(x, str, n) == 0)
            return true;
    }
}

/* Insert str (borrowed); the caller sized the set for every insert. */
static void set_add(string_set *s, const char *str) {
    size_t n = strlen(str);
    if (set_has_n(s, str, n))
        return;
    size_t i = hash_bytes(str, n) & (s->cap - 1);
    while (s->slots[i])
        i = (i + 1) & (s->cap - 1);
    s->slots[i] = str;
    s->count++;
}

/* An index of the held-out questions by their first key_len bytes, for
 * finding any of them anywhere inside a training question. key_len is the
 * length of the shortest held-out question (at most 32), so each position
 * of the training question costs one hash and a probe. */
typedef struct held_index {
    struct held_entry {
        uint64_t hash;
        const char *q;
    } * slots; /* open addressing, q == NULL = empty; duplicates allowed */
    size_t cap, key_len;
} held_index;

static int held_init(held_index *h, const corpus_task *tasks, size_t n) {
    h->key_len = 32;
    for (size_t i = 0; i < n; i++)
        if (strlen(tasks[i].question) < h->key_len)
            h->key_len = strlen(tasks[i].question);
    h->cap = 64;
    while (h->cap < n * 2)
        h->cap *= 2;
    h->slots = calloc(h->cap, sizeof *h->slots);
    if (!h->slots)
        return -1;
    for (size_t i = 0; i < n && h->key_len > 0; i++) {
        uint64_t hash = hash_bytes(tasks[i].question, h->key_len);
        size_t k = hash & (h->cap - 1);
        while (h->slots[k].q)
            k = (k + 1) & (h->cap - 1);
        h->slots[k] = (struct held_entry){hash, tasks[i].question};
    }
    return 0;
}

static void held_free(held_index *h) {
    free(h->slots);
    memset(h, 0, sizeof *h);
}

/* True when a held-out question occurs anywhere in q. */
static bool held_out(const held_index *h, const char *q) {
    size_t n = strlen(q);
    if (h->key_len == 0 || n < h->key_len)
        return false;
    for (size_t i = 0; i + h->key_len <= n; i++) {
        uint64_t hash = hash_bytes(q + i, h->key_len);
        for (size_t k = hash & (h->cap - 1); h->slots[k].q; k = (k + 1) & (h->cap - 1)) {
            size_t len = strlen(h->slots[k].q);
            if (h->slots[k].hash == hash && len <= n - i && memcmp(q + i, h->slots[k].q, len) == 0)
                return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Documents                                                                */
/* ------------------------------------------------------------------------ */

typedef struct doc {
    char *text;
    uint8_t family, stage;
} doc;

typedef struct doc_list {
    doc *items;
    size_t count, cap;
} doc_list;

static int docs_push(doc_list *l, char *text, corpus_family f, corpus_stage st) {
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        doc *p = realloc(l->items, cap * sizeof *p);
        if (!p)
            return -1;
        l->items = p;
        l->cap = cap;
    }
    l->items[l->count++] = (doc){text, (uint8_t)f, (uint8_t)st};
    return 0;
}

static void docs_free(doc_list *l) {
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].text);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* What a document needs: templates, chat template, and perspective ids. */
typedef struct renderer {
    prompt_set prompts;
    chat_template chat;
    corpus_perspective persp[16]; /* per prompts.perspectives[i] */
    const char *titles[16];
} renderer;

static int renderer_init(renderer *r, lrc_error *err) {
    memset(r, 0, sizeof *r);
    if (prompts_load(&r->prompts, err))
        return -1;
    if (r->prompts.n_perspectives > 16) {
        lrc_errorf(err, "prompts: %zu perspective templates found, at most 16 are supported",
                   r->prompts.n_perspectives);
        prompts_free(&r->prompts);
        return -1;
    }
    for (size_t i = 0; i < r->prompts.n_perspectives; i++) {
        const prompt_template *pt = &r->prompts.perspectives[i];
        int id = -1;
        for (int p = 0; p < CORPUS_N_PERSPECTIVES; p++)
            if (strcmp(pt->name, corpus_perspective_template((corpus_perspective)p)) == 0)
                id = p;
        if (id < 0) {
            lrc_errorf(err,
                       "%s: the corpus has no reflections for perspective '%s'; move the file "
                       "out of the prompt folders while generating the corpus",
                       pt->path, pt->name);
            prompts_free(&r->prompts);
            return -1;
        }
        r->persp[i] = (corpus_perspective)id;
        r->titles[i] = pt->title;
    }

    /* A tokenizer_config.json of the ChatML family with no default system
     * message: the form the bundled tokenizer is written with. */
    cJSON *cfg = cJSON_CreateObject();
    if (!cfg || !cJSON_AddStringToObject(cfg, "eos_token", "<|im_end|>") ||
        !cJSON_AddStringToObject(cfg, "chat_template",
                                 "{% for message in messages %}{{ '<|im_start|>' + "
                                 "message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
                                 "'\\n' }}{% endfor %}{% if add_generation_prompt %}{{ "
                                 "'<|im_start|>assistant\\n' }}{% endif %}")) {
        cJSON_Delete(cfg);
        prompts_free(&r->prompts);
        return lrc_errorf(err, "corpus: out of memory");
    }
    int rc = chat_template_from_config(cfg, &r->chat, err);
    cJSON_Delete(cfg);
    if (rc == 0 && (r->chat.family != CHAT_CHATML || r->chat.default_system)) {
        chat_template_free(&r->chat);
        rc = lrc_errorf(err, "corpus: internal error: the ChatML template was not recognised");
    }
    if (rc)
        prompts_free(&r->prompts);
    return rc;
}

static void renderer_free(renderer *r) {
    prompts_free(&r->prompts);
    chat_template_free(&r->chat);
}

/* Render template t with vars as the user turn and append the reply. */
static int make_doc(const renderer *r, const prompt_template *t, const prompt_var *vars,
                    size_t n_vars, const char *reply, char **out, lrc_error *err) {
    char *user = NULL, *prefix = NULL;
    if (prompts_render(t, vars, n_vars, &user, err))
        return -1;
    int rc = chat_template_render(&r->chat, NULL, user, &prefix, NULL, err);
    free(user);
    if (rc)
        return -1;
    size_t a = strlen(prefix), b = strlen(reply);
    *out = malloc(a + b + 1);
    if (!*out) {
        free(prefix);
        return lrc_errorf(err, "corpus: out of memory");
    }
    memcpy(*out, prefix, a);
    memcpy(*out + a, reply, b + 1);
    free(prefix);
    return 0;
}

/* Append the documents of one task: cot, and the episode when asked. */
static int task_docs(const renderer *r, const corpus_task *t, bool episode, doc_list *docs,
                     corpus_summary *sum, lrc_error *err) {
    char *text = NULL;
    prompt_var q = {"question", t->question};
    if (make_doc(r, &r->prompts.cot, &q, 1, t->cot, &text, err))
        return -1;
    if (docs_push(docs, text, t->family, CORPUS_STAGE_COT))
        goto oom;
    sum->docs[t->family][CORPUS_STAGE_COT]++;
    if (!episode)
        return 0;

    size_t n = r->prompts.n_perspectives;
    const char *texts[16];
    for (size_t i = 0; i < n; i++) {
        texts[i] = t->reflection[r->persp[i]];
        prompt_var v[] = {{"question", t->question},
                          {"cot", t->attempt},
                          {"perspective", r->prompts.perspectives[i].title}};
        if (make_doc(r, &r->prompts.perspectives[i], v, 3, texts[i], &text, err))
            return -1;
        if (docs_push(docs, text, t->family, CORPUS_STAGE_PERSPECTIVE))
            goto oom;
        sum->docs[t->family][CORPUS_STAGE_PERSPECTIVE]++;
    }

    prompt_var rv[] = {{"question", t->question}, {"cot", t->attempt}};
    if (make_doc(r, &r->prompts.reflect, rv, 2, t->reflect, &text, err))
        return -1;
    if (docs_push(docs, text, t->family, CORPUS_STAGE_REFLECT))
        goto oom;
    sum->docs[t->family][CORPUS_STAGE_REFLECT]++;

    char *joined = prompts_join_reflections(r->titles, texts, n);
    if (!joined)
        return lrc_errorf(err, "corpus: out of memory");
    prompt_var sv[] = {{"question", t->question}, {"cot", t->attempt}, {"reflections", joined}};
    int rc = make_doc(r, &r->prompts.synthesize, sv, 3, t->synthesis, &text, err);
    free(joined);
    if (rc)
        return -1;
    if (docs_push(docs, text, t->family, CORPUS_STAGE_SYNTHESIZE))
        goto oom;
    sum->docs[t->family][CORPUS_STAGE_SYNTHESIZE]++;
    return 0;

oom:
    free(text);
    return lrc_errorf(err, "corpus: out of memory");
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

/* Write s as a JSON string: quotes, backslashes and control characters
 * escaped, other bytes (UTF-8) as they are. */
static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

typedef struct out_file {
    char final[4096], tmp[4096];
    FILE *f;
} out_file;

static int out_open(out_file *o, const char *dir, const char *name, lrc_error *err) {
    snprintf(o->final, sizeof o->final, "%s/%s", dir, name);
    snprintf(o->tmp, sizeof o->tmp, "%s/.%s.tmp", dir, name);
    o->f = fopen(o->tmp, "wb");
    if (!o->f)
        return lrc_errorf(err, "%s: cannot create (%s); check that the folder is writable", o->tmp,
                          strerror(errno));
    return 0;
}

/* Close; on failure (or when `failed`) remove the temporary. */
static int out_close(out_file *o, bool failed, lrc_error *err) {
    if (!o->f)
        return failed ? -1 : 0;
    int bad = ferror(o->f);
    if (fclose(o->f) != 0)
        bad = 1;
    o->f = NULL;
    if (bad && !failed)
        lrc_errorf(err, "%s: write failed (%s); check the free disk space", o->tmp,
                   strerror(errno));
    if (bad || failed) {
        remove(o->tmp);
        return -1;
    }
    return 0;
}

static int write_summary(FILE *out, const corpus_options *opt, const corpus_summary *sum,
                         const renderer *r) {
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return -1;
    cJSON_AddNumberToObject(j, "version", CORPUS_VERSION);
    cJSON_AddNumberToObject(j, "seed", (double)opt->seed);
    cJSON_AddNumberToObject(j, "size", (double)opt->size);
    cJSON_AddNumberToObject(j, "eval_size", (double)opt->eval_size);
    cJSON_AddNumberToObject(j, "episode_fraction", opt->episode_fraction);
    cJSON_AddNumberToObject(j, "mistake_fraction", opt->mistake_fraction);
    cJSON_AddNumberToObject(j, "documents", (double)sum->n_docs);
    cJSON_AddNumberToObject(j, "train_bytes", (double)sum->train_bytes);
    cJSON_AddNumberToObject(j, "eval_bytes", (double)sum->eval_bytes);
    cJSON_AddNumberToObject(j, "rejected_for_overlap", (double)sum->rejected);
    cJSON *persp = cJSON_AddArrayToObject(j, "perspectives");
    for (size_t i = 0; persp && i < r->prompts.n_perspectives; i++)
        cJSON_AddItemToArray(persp, cJSON_CreateString(r->prompts.perspectives[i].name));
    cJSON *fams = cJSON_AddObjectToObject(j, "families");
    for (int f = 0; fams && f < CORPUS_N_FAMILIES; f++) {
        cJSON *o = cJSON_AddObjectToObject(fams, corpus_family_name((corpus_family)f));
        if (!o)
            break;
        cJSON_AddNumberToObject(o, "share", family_share[f]);
        cJSON_AddNumberToObject(o, "tasks", (double)sum->tasks[f]);
        cJSON_AddNumberToObject(o, "episodes", (double)sum->episodes[f]);
        cJSON_AddNumberToObject(o, "mistakes", (double)sum->mistakes[f]);
        cJSON_AddNumberToObject(o, "eval_tasks", (double)sum->eval_tasks[f]);
        cJSON *d = cJSON_AddObjectToObject(o, "documents");
        for (int s = 0; d && s < CORPUS_N_STAGES; s++)
            cJSON_AddNumberToObject(d, corpus_stage_name((corpus_stage)s), (double)sum->docs[f][s]);
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text)
        return -1;
    fputs(text, out);
    fputc('\n', out);
    free(text);
    return 0;
}

/* The folder must exist and hold nothing (not even hidden files). */
static int check_empty_dir(const char *dir, lrc_error *err) {
    DIR *d = opendir(dir);
    if (!d)
        return lrc_errorf(err, "%s: cannot open the output folder (%s)", dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            rc = lrc_errorf(err,
                            "%s: the output folder is not empty (it has '%s'); give a new "
                            "or empty folder",
                            dir, e->d_name);
            break;
        }
    closedir(d);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Generation                                                               */
/* ------------------------------------------------------------------------ */

/* Held-out tasks, eval_size distinct questions per family. */
static int make_eval(const corpus_options *opt, corpus_task *tasks, string_set *set,
                     corpus_summary *sum, lrc_error *err) {
    size_t k = 0;
    for (int f = 0; f < CORPUS_N_FAMILIES; f++) {
        uint64_t rng = stream_seed(opt->seed, STREAM_EVAL, f);
        size_t tries = 0;
        for (size_t i = 0; i < opt->eval_size;) {
            if (++tries > 1000 * (opt->eval_size + 10))
                return lrc_errorf(err,
                                  "--eval-size %zu: the %s family has too few distinct "
                                  "questions; give a smaller --eval-size",
                                  opt->eval_size, corpus_family_name((corpus_family)f));
            if (corpus_task_make((corpus_family)f, &rng, false, &tasks[k], err))
                return -1;
            if (set_has_n(set, tasks[k].question, strlen(tasks[k].question))) {
                corpus_task_free(&tasks[k]);
                continue;
            }
            set_add(set, tasks[k].question);
            k++;
            i++;
            sum->eval_tasks[f]++;
        }
    }
    return 0;
}

/* Whether item i of n gets the share x: exact counts, spread evenly. */
static bool take_share(size_t i, double x) {
    return (size_t)((double)(i + 1) * x) > (size_t)((double)i * x);
}

static size_t family_tasks(const corpus_options *opt, int f) {
    size_t used = 0;
    for (int g = 1; g < CORPUS_N_FAMILIES; g++)
        used += (size_t)((double)opt->size * family_share[g]);
    return f == 0 ? opt->size - used : (size_t)((double)opt->size * family_share[f]);
}

static int make_train(const corpus_options *opt, const renderer *r, const held_index *held,
                      doc_list *docs, corpus_summary *sum, corpus_progress_fn progress, void *user,
                      lrc_error *err) {
    size_t done = 0;
    for (int f = 0; f < CORPUS_N_FAMILIES; f++) {
        uint64_t rng = stream_seed(opt->seed, STREAM_TRAIN, f);
        size_t n = family_tasks(opt, f), episodes = 0, misses = 0;
        for (size_t i = 0; i < n; i++) {
            bool episode = take_share(i, opt->episode_fraction);
            bool mistake = episode && take_share(episodes, opt->mistake_fraction);
            corpus_task t;
            for (;;) {
                if (corpus_task_make((corpus_family)f, &rng, mistake, &t, err))
                    return -1;
                if (!held_out(held, t.question))
                    break;
                corpus_task_free(&t);
                sum->rejected++;
                if (++misses > 100 * (n + 10))
                    return lrc_errorf(err,
                                      "the %s family keeps drawing held-out questions; give a "
                                      "smaller --eval-size",
                                      corpus_family_name((corpus_family)f));
            }
            int rc = task_docs(r, &t, episode, docs, sum, err);
            corpus_task_free(&t);
            if (rc)
                return -1;
            sum->tasks[f]++;
            if (episode) {
                episodes++;
                sum->episodes[f]++;
                sum->mistakes[f] += mistake;
            }
            if (progress && ++done % 10000 == 0)
                progress("tasks", done, opt->size, user);
        }
    }
    return 0;
}

int corpus_write(const corpus_options *opt, const char *dir, corpus_summary *sum,
                 corpus_progress_fn progress, void *user, lrc_error *err) {
    memset(sum, 0, sizeof *sum);
    if (!(opt->episode_fraction >= 0 && opt->episode_fraction <= 1) ||
        !(opt->mistake_fraction >= 0 && opt->mistake_fraction <= 1))
        return lrc_errorf(err, "corpus: fractions must be between 0 and 1");
    if (check_empty_dir(dir, err))
        return -1;

    renderer r;
    if (renderer_init(&r, err))
        return -1;

    size_t n_eval = opt->eval_size * CORPUS_N_FAMILIES;
    corpus_task *eval = calloc(n_eval ? n_eval : 1, sizeof *eval);
    string_set held = {0};
    held_index index = {0};
    doc_list docs = {0};
    out_file files[3] = {{.f = NULL}, {.f = NULL}, {.f = NULL}};
    int rc = -1;
    if (!eval || set_init(&held, n_eval)) {
        lrc_errorf(err, "corpus: out of memory");
        goto done;
    }
    if (make_eval(opt, eval, &held, sum, err))
        goto done;
    if (held_init(&index, eval, n_eval)) {
        lrc_errorf(err, "corpus: out of memory");
        goto done;
    }
    if (make_train(opt, &r, &index, &docs, sum, progress, user, err))
        goto done;

    /* Shuffle the documents. */
    uint64_t rng = stream_seed(opt->seed, STREAM_SHUFFLE, 0);
    for (size_t i = docs.count; i > 1; i--) {
        size_t j = (size_t)(rng_splitmix64(&rng) % i);
        doc tmp = docs.items[i - 1];
        docs.items[i - 1] = docs.items[j];
        docs.items[j] = tmp;
    }
    sum->n_docs = docs.count;

    /* train.jsonl */
    if (out_open(&files[0], dir, "train.jsonl", err))
        goto done;
    for (size_t i = 0; i < docs.count; i++) {
        fputs("{\"text\": ", files[0].f);
        json_string(files[0].f, docs.items[i].text);
        fputs("}\n", files[0].f);
        if (progress && (i + 1) % 50000 == 0)
            progress("write", i + 1, docs.count, user);
    }
    long pos = ftell(files[0].f);
    sum->train_bytes = pos > 0 ? (uint64_t)pos : 0;

    /* eval.jsonl */
    if (out_open(&files[1], dir, "eval.jsonl", err))
        goto done;
    for (size_t i = 0; i < n_eval; i++) {
        fputs("{\"question\": ", files[1].f);
        json_string(files[1].f, eval[i].question);
        fputs(", \"answer\": ", files[1].f);
        json_string(files[1].f, eval[i].answer);
        fputs(", \"family\": ", files[1].f);
        json_string(files[1].f, corpus_family_name(eval[i].family));
        fputs("}\n", files[1].f);
    }
    pos = ftell(files[1].f);
    sum->eval_bytes = pos > 0 ? (uint64_t)pos : 0;

    /* corpus.json */
    if (out_open(&files[2], dir, "corpus.json", err))
        goto done;
    if (write_summary(files[2].f, opt, sum, &r)) {
        lrc_errorf(err, "corpus: out of memory");
        goto done;
    }
    rc = 0;

done:
    for (int i = 0; i < 3; i++)
        if (out_close(&files[i], rc != 0, err))
            rc = -1;
    if (rc == 0)
        for (int i = 0; i < 3; i++)
            if (rename(files[i].tmp, files[i].final) != 0) {
                rc = lrc_errorf(err, "%s: cannot rename to %s (%s)", files[i].tmp, files[i].final,
                                strerror(errno));
                for (int k = 0; k < i; k++)
                    remove(files[k].final);
                for (int k = i; k < 3; k++)
                    remove(files[k].tmp);
                break;
            }
    for (size_t i = 0; eval && i < n_eval; i++)
        corpus_task_free(&eval[i]);
    free(eval);
    set_free(&held);
    held_free(&index);
    docs_free(&docs);
    renderer_free(&r);
    return rc;
}
