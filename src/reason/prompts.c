/*
 * PR-CoT prompt templates: lookup over three folders, the title line, a
 * placeholder scanner shared by the load-time check and the renderer, and the
 * final-answer parser. Templates are small, so each file is read whole into
 * memory; rendering walks the body once and appends into a growing buffer.
 */
#define _POSIX_C_SOURCE 200809L
#include "reason/prompts.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef LRC_DATADIR
#define LRC_DATADIR "/usr/local/share/lrc-studio"
#endif
#ifndef LRC_SRCDIR
#define LRC_SRCDIR "."
#endif

#define PRCOT_SUBDIR "prompts/prcot"
#define PERSPECTIVE_PREFIX "perspective-"

static const char *const known_placeholders[] = {"question", "cot", "reflection", "reflections",
                                                 "perspective"};

static char *path_join(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *p = malloc(na + nb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, na);
    p[na] = '/';
    memcpy(p + na + 1, b, nb + 1);
    return p;
}

size_t prompts_search_dirs(char *dirs[PROMPTS_MAX_DIRS]) {
    size_t n = 0;
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char *cfg = NULL;
    if (xdg && *xdg)
        cfg = path_join(xdg, "lrc/" PRCOT_SUBDIR);
    else if (home && *home)
        cfg = path_join(home, ".config/lrc/" PRCOT_SUBDIR);
    if (cfg)
        dirs[n++] = cfg;
    char *d = strdup(LRC_DATADIR "/" PRCOT_SUBDIR);
    if (d)
        dirs[n++] = d;
    d = strdup(LRC_SRCDIR "/" PRCOT_SUBDIR);
    if (d)
        dirs[n++] = d;
    return n;
}

static void free_dirs(char **dirs, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(dirs[i]);
}

/* Read a whole file; NULL with errno set when it cannot be opened or read. */
static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (len + 1 < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f) ? errno : 0;
    fclose(f);
    if (!buf || bad) {
        free(buf);
        if (!bad)
            errno = ENOMEM;
        else if (bad == EISDIR)
            errno = EISDIR;
        else
            errno = EIO;
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

static int line_at(const char *start, const char *pos, int first_line) {
    int line = first_line;
    for (const char *p = start; p < pos; p++)
        if (*p == '\n')
            line++;
    return line;
}

/*
 * Walk a body's placeholders. For each literal run and each placeholder the
 * callbacks are given the text; a placeholder name is trimmed of spaces.
 * Unknown names and an unterminated "{{" are errors naming file and line.
 */
typedef int (*emit_fn)(void *ctx, const char *s, size_t n, int is_name, int line);

static int walk_body(const prompt_template *t, emit_fn emit, void *ctx, lrc_error *err) {
    const char *p = t->body;
    while (*p) {
        const char *open = strstr(p, "{{");
        if (!open)
            return emit ? emit(ctx, p, strlen(p), 0, 0) : 0;
        if (emit && open > p && emit(ctx, p, (size_t)(open - p), 0, 0))
            return -1;
        int line = line_at(t->body, open, t->body_line);
        const char *close = strstr(open + 2, "}}");
        const char *nl = strchr(open + 2, '\n');
        if (!close || (nl && nl < close))
            return lrc_errorf(err,
                              "%s:%d: unterminated \"{{\" (expected a placeholder such as "
                              "{{question}} closed by \"}}\"); close it or remove it",
                              t->path, line);
        const char *a = open + 2, *b = close;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        size_t n = (size_t)(b - a);
        int known = 0;
        for (size_t i = 0; i < sizeof known_placeholders / sizeof *known_placeholders; i++)
            if (strlen(known_placeholders[i]) == n && memcmp(known_placeholders[i], a, n) == 0)
                known = 1;
        if (!known)
            return lrc_errorf(err,
                              "%s:%d: unknown placeholder {{%.*s}} (expected question, cot, "
                              "reflection, reflections or perspective); see lrc-prompts(5)",
                              t->path, line, (int)n, a);
        if (emit && emit(ctx, a, n, 1, line))
            return -1;
        p = close + 2;
    }
    return 0;
}

void prompts_template_free(prompt_template *t) {
    if (!t)
        return;
    free(t->name);
    free(t->path);
    free(t->title);
    free(t->body);
    memset(t, 0, sizeof *t);
}

/* Split "title: X\n\nbody" read from t->path; takes ownership of text. */
static int parse_template(prompt_template *t, char *text, lrc_error *err) {
    char *nl = strchr(text, '\n');
    char *first_end = nl ? nl : text + strlen(text);
    if (first_end > text && first_end[-1] == '\r')
        first_end--;
    if (strncasecmp(text, "title:", 6) != 0) {
        free(text);
        return lrc_errorf(err,
                          "%s:1: expected a title line such as \"title: Logical consistency\"; "
                          "add one as the first line",
                          t->path);
    }
    const char *a = text + 6, *b = first_end;
    while (a < b && isspace((unsigned char)*a))
        a++;
    while (b > a && isspace((unsigned char)b[-1]))
        b--;
    if (a == b) {
        free(text);
        return lrc_errorf(err, "%s:1: the title line is empty; write a title after \"title:\"",
                          t->path);
    }
    t->title = malloc((size_t)(b - a) + 1);
    const char *body = nl ? nl + 1 : first_end;
    t->body_line = 2;
    if (*body == '\r')
        body++;
    if (*body == '\n') {
        body++;
        t->body_line = 3;
    }
    t->body = strdup(body);
    if (!t->title || !t->body) {
        free(text);
        return lrc_errorf(err, "%s: out of memory", t->path);
    }
    memcpy(t->title, a, (size_t)(b - a));
    t->title[b - a] = '\0';
    free(text);
    if (strspn(t->body, " \t\r\n") == strlen(t->body))
        return lrc_errorf(err,
                          "%s: the template has a title but no body; write the prompt "
                          "after the title line and a blank line",
                          t->path);
    return walk_body(t, NULL, NULL, err);
}

/* The placeholders with a value in the stage that template name is for, as
 * a comma-separated list, or NULL for a name of no known stage. */
static const char *stage_placeholders(const char *name) {
    if (strcmp(name, "cot") == 0)
        return "question";
    if (strcmp(name, "reflect") == 0)
        return "question, cot";
    if (strncmp(name, PERSPECTIVE_PREFIX, sizeof PERSPECTIVE_PREFIX - 1) == 0)
        return "question, cot, perspective";
    if (strcmp(name, "synthesize") == 0)
        return "question, cot, reflections, reflection";
    return NULL;
}

/* 1 when name (n bytes) is an entry of the comma-separated list. */
static int in_list(const char *list, const char *name, size_t n) {
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && memcmp(p, name, n) == 0)
            return 1;
        p += k;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return 0;
}

typedef struct stage_check {
    const prompt_template *t;
    const char *allowed;
    lrc_error *err;
} stage_check;

static int stage_check_emit(void *ctx, const char *s, size_t n, int is_name, int line) {
    stage_check *c = ctx;
    if (!is_name || in_list(c->allowed, s, n))
        return 0;
    return lrc_errorf(c->err,
                      "%s:%d: placeholder {{%.*s}} has no value in the %s stage (valid there: "
                      "%s); see lrc-prompts(5)",
                      c->t->path, line, (int)n, s, c->t->name, c->allowed);
}

typedef struct uses_ctx {
    const char *name;
    int found;
} uses_ctx;

static int uses_emit(void *ctx, const char *s, size_t n, int is_name, int line) {
    uses_ctx *c = ctx;
    (void)line;
    if (is_name && strlen(c->name) == n && memcmp(c->name, s, n) == 0)
        c->found = 1;
    return 0;
}

int prompts_uses(const prompt_template *t, const char *name) {
    uses_ctx c = {name, 0};
    lrc_error ignored;
    if (!t->body)
        return 0;
    walk_body(t, uses_emit, &c, &ignored);
    return c.found;
}

int prompts_load_template(const char *name, prompt_template *t, lrc_error *err) {
    memset(t, 0, sizeof *t);
    char *dirs[PROMPTS_MAX_DIRS];
    size_t nd = prompts_search_dirs(dirs);
    size_t fn_len = strlen(name) + 5;
    char *fname = malloc(fn_len);
    if (!fname) {
        free_dirs(dirs, nd);
        return lrc_errorf(err, "%s.txt: out of memory", name);
    }
    snprintf(fname, fn_len, "%s.txt", name);
    char *text = NULL;
    for (size_t i = 0; i < nd && !text; i++) {
        char *path = path_join(dirs[i], fname);
        if (!path)
            break;
        text = read_file(path);
        if (text) {
            t->path = path;
        } else if (errno != ENOENT && errno != ENOTDIR) {
            int e = errno;
            if (e == EISDIR)
                lrc_errorf(err, "%s: is a folder; expected a template file, remove or rename it",
                           path);
            else
                lrc_errorf(err, "%s: cannot read (%s); check its permissions", path, strerror(e));
            free(path);
            free(fname);
            free_dirs(dirs, nd);
            return -1;
        } else {
            free(path);
        }
    }
    if (!text) {
        char searched[LRC_ERROR_MAX] = "";
        size_t off = 0;
        for (size_t i = 0; i < nd && off < sizeof searched; i++) {
            int w = snprintf(searched + off, sizeof searched - off, "%s%s", i ? ", " : "", dirs[i]);
            if (w < 0)
                break;
            off += (size_t)w;
        }
        lrc_errorf(err,
                   "%s: template not found (searched %s); reinstall lrc or copy the file into "
                   "the first folder",
                   fname, searched);
        free(fname);
        free_dirs(dirs, nd);
        return -1;
    }
    free(fname);
    free_dirs(dirs, nd);
    t->name = strdup(name);
    if (!t->name) {
        free(text);
        lrc_errorf(err, "%s: out of memory", t->path);
        prompts_template_free(t);
        return -1;
    }
    if (parse_template(t, text, err)) {
        prompts_template_free(t);
        return -1;
    }
    stage_check sc = {t, stage_placeholders(name), err};
    if (sc.allowed && walk_body(t, stage_check_emit, &sc, err)) {
        prompts_template_free(t);
        return -1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect the distinct perspective names (without ".txt") over every folder. */
static int list_perspectives(char ***names_out, size_t *n_out, lrc_error *err) {
    char *dirs[PROMPTS_MAX_DIRS];
    size_t nd = prompts_search_dirs(dirs);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < nd && rc == 0; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            size_t len = strlen(e->d_name);
            if (strncmp(e->d_name, PERSPECTIVE_PREFIX, strlen(PERSPECTIVE_PREFIX)) != 0 ||
                len <= strlen(PERSPECTIVE_PREFIX) + 4 || strcmp(e->d_name + len - 4, ".txt") != 0)
                continue;
            size_t base = len - 4;
            int dup = 0;
            for (size_t k = 0; k < n; k++)
                if (strlen(names[k]) == base && memcmp(names[k], e->d_name, base) == 0)
                    dup = 1;
            if (dup)
                continue;
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 8;
                char **nn = realloc(names, nc * sizeof *nn);
                if (!nn) {
                    rc = lrc_errorf(err, "%s: out of memory", dirs[i]);
                    break;
                }
                names = nn;
                cap = nc;
            }
            names[n] = malloc(base + 1);
            if (!names[n]) {
                rc = lrc_errorf(err, "%s: out of memory", dirs[i]);
                break;
            }
            memcpy(names[n], e->d_name, base);
            names[n][base] = '\0';
            n++;
        }
        closedir(d);
    }
    free_dirs(dirs, nd);
    if (rc) {
        for (size_t k = 0; k < n; k++)
            free(names[k]);
        free(names);
        return -1;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    *names_out = names;
    *n_out = n;
    return 0;
}

void prompts_free(prompt_set *set) {
    if (!set)
        return;
    prompts_template_free(&set->cot);
    prompts_template_free(&set->reflect);
    prompts_template_free(&set->synthesize);
    for (size_t i = 0; i < set->n_perspectives; i++)
        prompts_template_free(&set->perspectives[i]);
    free(set->perspectives);
    memset(set, 0, sizeof *set);
}

int prompts_load(prompt_set *set, lrc_error *err) {
    memset(set, 0, sizeof *set);
    if (prompts_load_template("cot", &set->cot, err) ||
        prompts_load_template("reflect", &set->reflect, err) ||
        prompts_load_template("synthesize", &set->synthesize, err)) {
        prompts_free(set);
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    if (list_perspectives(&names, &n, err)) {
        prompts_free(set);
        return -1;
    }
    int rc = 0;
    if (n == 0) {
        rc = lrc_errorf(err, "perspective-*.txt: no perspective templates found; reinstall lrc or "
                             "add one (see lrc-prompts(5))");
    } else {
        set->perspectives = calloc(n, sizeof *set->perspectives);
        if (!set->perspectives)
            rc = lrc_errorf(err, "perspective-*.txt: out of memory");
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = prompts_load_template(names[i], &set->perspectives[i], err);
        if (rc == 0)
            set->n_perspectives = i + 1;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc)
        prompts_free(set);
    return rc;
}

typedef struct render_ctx {
    char *buf;
    size_t len, cap;
    const prompt_template *t;
    const prompt_var *vars;
    size_t n_vars;
    lrc_error *err;
} render_ctx;

static int append(render_ctx *c, const char *s, size_t n) {
    if (c->len + n + 1 > c->cap) {
        size_t nc = c->cap ? c->cap : 256;
        while (nc < c->len + n + 1)
            nc *= 2;
        char *nb = realloc(c->buf, nc);
        if (!nb)
            return lrc_errorf(c->err, "%s: out of memory while rendering", c->t->path);
        c->buf = nb;
        c->cap = nc;
    }
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    c->buf[c->len] = '\0';
    return 0;
}

static int render_emit(void *ctx, const char *s, size_t n, int is_name, int line) {
    render_ctx *c = ctx;
    if (!is_name)
        return append(c, s, n);
    for (size_t i = 0; i < c->n_vars; i++) {
        const char *name = c->vars[i].name;
        if (strlen(name) == n && memcmp(name, s, n) == 0 && c->vars[i].value)
            return append(c, c->vars[i].value, strlen(c->vars[i].value));
    }
    return lrc_errorf(c->err,
                      "%s:%d: placeholder {{%.*s}} has no value at this stage; see "
                      "lrc-prompts(5) for where each placeholder is valid",
                      c->t->path, line, (int)n, s);
}

int prompts_render(const prompt_template *t, const prompt_var *vars, size_t n_vars, char **out,
                   lrc_error *err) {
    render_ctx c = {.t = t, .vars = vars, .n_vars = n_vars, .err = err};
    *out = NULL;
    if (append(&c, "", 0) || walk_body(t, render_emit, &c, err)) {
        free(c.buf);
        return -1;
    }
    *out = c.buf;
    return 0;
}

char *prompts_join_reflections(const char *const *titles, const char *const *texts, size_t n) {
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += strlen(titles[i]) + strlen(texts[i]) + 8;
    char *s = malloc(total);
    if (!s)
        return NULL;
    size_t off = 0;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t tl = strlen(texts[i]);
        while (tl > 0 && (texts[i][tl - 1] == '\n' || texts[i][tl - 1] == ' '))
            tl--;
        /* Each text ends in a newline, so the synthesis prompt has a blank
         * line after the last one. The bundled teacher was trained on
         * exactly this layout: keep it. */
        int w = snprintf(s + off, total - off, "%s## %s\n%.*s\n", i ? "\n" : "", titles[i], (int)tl,
                         texts[i]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    return s;
}

int prompts_parse_final_answer(const char *text, char **answer, lrc_error *err) {
    static const char key[] = "final answer:";
    const char *best = NULL, *best_end = NULL;
    const char *line = text;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        const char *p = line;
        while (p < end && (isspace((unsigned char)*p) || *p == '*' || *p == '#'))
            p++;
        if ((size_t)(end - p) >= sizeof key - 1 && strncasecmp(p, key, sizeof key - 1) == 0) {
            best = p + sizeof key - 1;
            best_end = end;
        }
        line = *end ? end + 1 : NULL;
    }
    *answer = NULL;
    if (!best)
        return lrc_errorf(err, "synthesize: the output has no \"Final answer:\" line; check that "
                               "synthesize.txt asks for one (see lrc-prompts(5))");
    const char *a = best, *b = best_end;
    while (a < b && (isspace((unsigned char)*a) || *a == '*'))
        a++;
    while (b > a && (isspace((unsigned char)b[-1]) || b[-1] == '*'))
        b--;
    if (a == b)
        return lrc_errorf(err, "synthesize: the \"Final answer:\" line is empty; expected an "
                               "answer after the colon");
    *answer = malloc((size_t)(b - a) + 1);
    if (!*answer)
        return lrc_errorf(err, "synthesize: out of memory");
    memcpy(*answer, a, (size_t)(b - a));
    (*answer)[b - a] = '\0';
    return 0;
}
