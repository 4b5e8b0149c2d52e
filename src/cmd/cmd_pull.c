/*
 * lrc pull: download a model from the Hugging Face Hub into the cache that
 * Python's huggingface_hub uses, and lrc pull --list: the models in it.
 * The library (src/hub) does the work and reports through callbacks. This
 * file parses options, draws the progress on stderr and prints the snapshot
 * folder on stdout, so `$(lrc pull ORG/NAME)` is a path to load.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "hub/hub.h"

static const char usage[] =
    "usage: lrc pull [options] ORG/NAME[@REVISION]\n"
    "       lrc pull --list [--cache DIR]\n"
    "\n"
    "Download the files lrc needs from a model repository on the Hugging Face Hub\n"
    "(config, generation config, tokenizer files, safetensors weights and their\n"
    "index) into the cache that Python's huggingface_hub uses, then print the\n"
    "snapshot folder. config.json is checked for a supported architecture before\n"
    "any weight is fetched. An interrupted download resumes on the next pull.\n"
    "Commands that load a model (lrc info, generate, perplexity, tokenize,\n"
    "detokenize, distill, ask, eval, studio) accept ORG/NAME[@REVISION] of a cached\n"
    "model in place of a folder; REVISION may also be the first 7 or more digits of a\n"
    "cached commit, as --list shows them.\n"
    "\n"
    "Options:\n"
    "  --revision REV   branch, tag or commit to fetch (default: the @REVISION of\n"
    "                   the id, else main)\n"
    "  --cache DIR      cache folder (default: $HF_HUB_CACHE, else $HF_HOME/hub,\n"
    "                   else ~/.cache/huggingface/hub)\n"
    "  --include GLOB   also fetch the repository files matching GLOB (fnmatch;\n"
    "                   repeatable); a GLOB that matches no file gets a notice\n"
    "  --dry-run        list the files and sizes a pull would fetch and whether each\n"
    "                   is cached; write nothing\n"
    "  --list           list the models in the cache and exit (takes only --cache)\n"
    "  --retries N      retries of a failed request, with backoff (default 4)\n"
    "  --timeout S      give up on a transfer after S seconds without data\n"
    "                   (default 30)\n"
    "  --quiet          print only the snapshot folder and errors\n"
    "  -h, --help       show this help\n"
    "Options that take a value also accept the form --option=VALUE.\n"
    "\n"
    "Environment:\n"
    "  HF_ENDPOINT      Hub URL (default https://huggingface.co, also when empty); a\n"
    "                   user:password in it is never printed\n"
    "  HF_TOKEN         access token for gated and private models, sent only to\n"
    "                   HF_ENDPOINT's host (default: the file $HF_HOME/token)\n"
    "  HF_HUB_OFFLINE   1: use the cache only and make no network request\n"
    "  HF_HUB_CACHE, HF_HOME   the cache folder, as above\n"
    "\n"
    "Exit status: 0 done, 1 failed, 2 usage error, 130 interrupted (Ctrl-C).\n";

typedef struct pull_options {
    const char *spec, *revision, *cache;
    const char **include;
    size_t n_include;
    bool dry_run, list, quiet;
    long retries;
    double timeout;
} pull_options;

/* Lock-free, so the signal handler may store to it. */
static atomic_int interrupted;

static void on_signal(int sig) {
    (void)sig;
    atomic_store(&interrupted, 1);
}

/* ------------------------------------------------------------------------ */
/* Progress                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct view {
    bool tty, quiet;
    bool line_open;
} view;

static const char *human(char *buf, size_t cap, double bytes) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}

static void close_line(view *v) {
    if (v->line_open) {
        fputc('\n', stderr);
        v->line_open = false;
    }
}

/* "[2/5]": the file's number of the plan's count. */
static const char *file_number(char *buf, size_t cap, const hub_progress *p) {
    snprintf(buf, cap, "[%zu/%zu]", p->index, p->count);
    return buf;
}

/* "[2/5] model.safetensors [#######.....] 12.0 MiB/50.0 MiB 4.5 MiB/s ETA 0:08" */
static void draw_bar(const hub_progress *p) {
    char a[32], b[32], c[32], eta[32] = "";
    double got = (double)(p->done - p->resumed_from);
    double rate = p->elapsed_s > 0 ? got / p->elapsed_s : 0;
    int width = 24, fill = 0;
    if (p->total)
        fill = (int)((double)width * (double)p->done / (double)p->total);
    if (fill > width)
        fill = width;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    if (p->total && rate > 0) {
        long s = (long)((double)(p->total - p->done) / rate);
        snprintf(eta, sizeof eta, " ETA %ld:%02ld", s / 60, s % 60);
    }
    char num[48];
    fprintf(stderr, "\r%s %s [%s] %s/%s %s/s%s\033[K", file_number(num, sizeof num, p), p->file,
            bar, human(a, sizeof a, (double)p->done),
            p->total ? human(b, sizeof b, (double)p->total) : "?", human(c, sizeof c, rate), eta);
}

static void on_progress(const hub_progress *p, void *user) {
    view *v = user;
    if (v->quiet)
        return;
    char a[32], b[32], num[48];
    switch (p->event) {
    case HUB_FILE_START:
        if (v->tty) {
            draw_bar(p);
            v->line_open = true;
        }
        break;
    case HUB_FILE_PROGRESS:
        if (v->tty) {
            draw_bar(p);
            v->line_open = true;
        }
        break;
    case HUB_FILE_DONE: {
        double got = (double)(p->done - p->resumed_from);
        double rate = p->elapsed_s > 0 ? got / p->elapsed_s : 0;
        if (v->tty)
            fputc('\r', stderr);
        fprintf(stderr, "%s %s: %s downloaded in %.1f s (%s/s)%s%s\n",
                file_number(num, sizeof num, p), p->file, human(a, sizeof a, (double)p->done),
                p->elapsed_s, human(b, sizeof b, rate), p->resumed_from ? ", resumed" : "",
                v->tty ? "\033[K" : "");
        v->line_open = false;
        break;
    }
    case HUB_FILE_CACHED:
        close_line(v);
        fprintf(stderr, "%s %s: %s, already in the cache\n", file_number(num, sizeof num, p),
                p->file, human(a, sizeof a, (double)p->done));
        break;
    }
}

static void on_log(const char *line, void *user) {
    view *v = user;
    if (v->quiet)
        return;
    close_line(v);
    fprintf(stderr, "lrc: pull: %s\n", line);
}

/* ------------------------------------------------------------------------ */
/* --list                                                                   */
/* ------------------------------------------------------------------------ */

static int list_models(const char *cache_opt) {
    char cache[HUB_PATH_MAX];
    lrc_error err;
    if (cache_opt)
        snprintf(cache, sizeof cache, "%s", cache_opt);
    else if (hub_cache_dir(cache, sizeof cache, &err) < 0) {
        cmd_fail("pull: %s", err.msg);
        return 1;
    }
    hub_cached_model *m;
    size_t n;
    if (hub_cache_list(&m, &n, cache, &err) < 0) {
        cmd_fail("pull: %s", err.msg);
        return 1;
    }

    if (n == 0) {
        printf("no models in the Hub cache %s\n", cache);
        free(m);
        return 0;
    }
    /* A snapshot no ref names is listed under the first 12 digits of its
     * commit, which ORG/NAME@DIGITS accepts, so the columns stay aligned. */
    int w_repo = 5, w_rev = 8;
    for (size_t i = 0; i < n; i++) {
        if (hub_is_commit(m[i].revision))
            m[i].revision[12] = '\0';
        int a = (int)strlen(m[i].repo), b = (int)strlen(m[i].revision);
        w_repo = a > w_repo ? a : w_repo;
        w_rev = b > w_rev ? b : w_rev;
    }

    printf("%-*s  %-*s  %-12s  %10s  %s\n", w_repo, "MODEL", w_rev, "REVISION", "COMMIT", "SIZE",
           "SNAPSHOT");
    for (size_t i = 0; i < n; i++) {
        char size[32];
        const char *note = !m[i].has_config    ? "  (incomplete: no config.json)"
                           : !m[i].has_weights ? "  (incomplete: no weights)"
                                               : "";
        printf("%-*s  %-*s  %.12s  %10s  %s%s\n", w_repo, m[i].repo, w_rev, m[i].revision,
               m[i].commit, human(size, sizeof size, (double)m[i].bytes), m[i].snapshot, note);
    }
    free(m);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

static int parse_args(int argc, char **argv, pull_options *o) {
    memset(o, 0, sizeof *o);
    o->retries = 4;
    o->timeout = 30;
    o->include = calloc((size_t)argc, sizeof *o->include);
    if (!o->include) {
        cmd_fail("pull: out of memory");
        return 1;
    }
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        /* --opt=value is the same as --opt value. */
        char name[16];
        const char *a = arg, *eq = strchr(arg, '=');
        if (!options_done && strncmp(arg, "--", 2) == 0 && eq && (size_t)(eq - arg) < sizeof name) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
            a = name;
        } else {
            eq = NULL;
        }
        bool takes_value = strcmp(a, "--revision") == 0 || strcmp(a, "--cache") == 0 ||
                           strcmp(a, "--include") == 0 || strcmp(a, "--retries") == 0 ||
                           strcmp(a, "--timeout") == 0;
        if (!options_done && eq && !takes_value) {
            cmd_fail("pull: unknown option '%s'; run 'lrc pull --help'", arg);
            return 2;
        }
        if (!options_done && takes_value) {
            if (!eq && i + 1 >= argc) {
                cmd_fail("pull: %s needs a value; run 'lrc pull --help'", a);
                return 2;
            }
            const char *v = eq ? eq + 1 : argv[++i];
            char *end;
            if (strcmp(a, "--revision") == 0) {
                lrc_error err;
                if (hub_revision_check(v, &err) < 0) {
                    cmd_fail("pull: --revision: %s", err.msg);
                    return 2;
                }
                o->revision = v;
            } else if (strcmp(a, "--cache") == 0) {
                o->cache = v;
            } else if (strcmp(a, "--include") == 0) {
                if (!*v) {
                    cmd_fail("pull: --include '' matches no file; give a pattern such as "
                             "'onnx/*'");
                    return 2;
                }
                o->include[o->n_include++] = v;
            } else if (strcmp(a, "--retries") == 0) {
                o->retries = strtol(v, &end, 10);
                if (*end || end == v || o->retries < 0 || o->retries > 100) {
                    cmd_fail("pull: --retries '%s' is not a count in 0..100", v);
                    return 2;
                }
            } else {
                o->timeout = strtod(v, &end);
                if (*end || end == v || !(o->timeout > 0) || o->timeout > 86400) {
                    cmd_fail("pull: --timeout '%s' is not a number of seconds in (0, 86400]", v);
                    return 2;
                }
            }
        } else if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
        } else if (!options_done && strcmp(a, "--dry-run") == 0) {
            o->dry_run = true;
        } else if (!options_done && strcmp(a, "--list") == 0) {
            o->list = true;
        } else if (!options_done && strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else if (!options_done && a[0] == '-' && a[1]) {
            char x[600];
            hub_printable(x, sizeof x, a);
            cmd_fail("pull: unknown option '%s'; run 'lrc pull --help'", x);
            return 2;
        } else if (o->spec) {
            char x[600], y[600];
            hub_printable(x, sizeof x, o->spec);
            hub_printable(y, sizeof y, a);
            cmd_fail("pull: more than one model ('%s' and '%s'); give one ORG/NAME", x, y);
            return 2;
        } else {
            o->spec = a;
        }
    }
    if (o->list && (o->spec || o->dry_run || o->revision || o->n_include)) {
        cmd_fail("pull: --list takes no model, --dry-run, --revision or --include; run 'lrc "
                 "pull --list [--cache DIR]' alone");
        return 2;
    }
    if (!o->list && !o->spec) {
        cmd_fail("pull: missing ORG/NAME; usage: lrc pull [options] ORG/NAME[@REVISION]");
        return 2;
    }
    if (o->spec && !hub_id_is_valid(o->spec)) {
        lrc_error err;
        hub_id id;
        hub_id_parse(&id, o->spec, &err);
        cmd_fail("pull: %s", err.msg);
        return 2;
    }
    return 0;
}

static void print_plan(const hub_pull_result *r) {
    uint64_t total = 0, missing = 0;
    char a[32];
    printf("%s@%s (commit %s):\n", r->repo, r->revision, r->commit);
    for (size_t i = 0; i < r->n_files; i++) {
        const hub_file *f = &r->files[i];
        printf("  %-40s %10s  %s\n", f->name, human(a, sizeof a, (double)f->size),
               f->cached ? "cached" : "to download");
        total += f->size;
        if (!f->cached)
            missing += f->size;
    }
    char b[32];
    printf("%zu files, %s, %s to download%s\n", r->n_files, human(a, sizeof a, (double)total),
           human(b, sizeof b, (double)missing),
           r->from_cache ? " (from the cache alone: HF_HUB_OFFLINE is set)" : "");
}

int cmd_pull(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    pull_options o;
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        free(o.include);
        return rc;
    }
    if (o.list) {
        free(o.include);
        return list_models(o.cache);
    }

    view v = {isatty(STDERR_FILENO) == 1, o.quiet, false};
    hub_pull_options ho;
    hub_pull_options_init(&ho, o.spec);
    ho.revision = o.revision;
    ho.cache_dir = o.cache;
    ho.include = o.include;
    ho.n_include = o.n_include;
    ho.dry_run = o.dry_run;
    ho.max_retries = (int)o.retries;
    ho.idle_timeout_s = o.timeout;
    ho.progress = on_progress;
    ho.log = on_log;
    ho.user = &v;
    ho.cancel = &interrupted;

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    hub_pull_result r;
    lrc_error err = {{0}};
    rc = hub_pull(&ho, &r, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    close_line(&v);

    int status = 0;
    if (rc < 0 && (r.cancelled || atomic_load(&interrupted))) {
        cmd_fail("pull: %s: interrupted; partial files stay in the cache as .incomplete and the "
                 "next 'lrc pull %s' resumes them",
                 o.spec, o.spec);
        status = 130;
    } else if (rc < 0) {
        cmd_fail("pull: %s", err.msg);
        status = 1;
    } else if (o.dry_run) {
        print_plan(&r);
    } else {
        char a[32];
        uint64_t total = 0;
        for (size_t i = 0; i < r.n_files; i++)
            total += r.files[i].size;
        if (!o.quiet && r.from_cache)
            fprintf(stderr,
                    "lrc: pull: %s@%s: %zu files (%s) from the cache, nothing downloaded, commit "
                    "%s\n",
                    r.repo, r.revision, r.n_files, human(a, sizeof a, (double)total), r.commit);
        else if (!o.quiet)
            fprintf(stderr,
                    "lrc: pull: %s@%s: %zu files (%s), %zu downloaded (%llu bytes), commit %s\n",
                    r.repo, r.revision, r.n_files, human(a, sizeof a, (double)total),
                    r.n_downloaded, (unsigned long long)r.bytes_downloaded, r.commit);
        printf("%s\n", r.snapshot);
    }
    hub_pull_result_free(&r);
    free(o.include);
    return status;
}
