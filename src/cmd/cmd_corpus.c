/*
 * lrc corpus: write the PR-CoT curriculum (src/corpus/corpus.h) into a new
 * or empty folder. Options are validated before the folder is touched. When
 * generation fails, a folder this command created is removed again and a
 * folder that existed is left empty.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "corpus/corpus.h"

static const char usage[] =
    "usage: lrc corpus --out DIR [--seed S] [--size N] [--eval-size N]\n"
    "                  [--episode-fraction X] [--mistake-fraction X]\n"
    "\n"
    "Write the PR-CoT curriculum in four task families (arith, commonsense, ethics,\n"
    "logic) to DIR: train.jsonl (ChatML documents for lrc pretrain),\n"
    "eval.jsonl (held-out tasks for lrc eval) and corpus.json (settings and counts).\n"
    "The same options give byte-identical files (see lrc-corpus(1)).\n"
    "\n"
    "Options:\n"
    "  --out DIR               output folder, new or empty (required)\n"
    "  --seed S                seed, an integer in 0..2^53-1 (default 1)\n"
    "  --size N                training tasks over all families (default: about 40 MB\n"
    "                          of train.jsonl, 24000 at the default fractions)\n"
    "  --eval-size N           held-out tasks per family (default 50)\n"
    "  --episode-fraction X    share of training tasks that also get a full PR-CoT\n"
    "                          episode, 0..1 (default 0.2)\n"
    "  --mistake-fraction X    share of episodes whose first attempt has a planted\n"
    "                          mistake, 0..1 (default 0.2)\n"
    "  -h, --help              show this help\n";

static int parse_size(const char *opt, const char *s, size_t min, size_t max, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
        cmd_fail("corpus: %s '%s': expected an integer in %zu..%zu", opt, s, min, max);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

static int parse_fraction(const char *opt, const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.0 && v <= 1.0)) {
        cmd_fail("corpus: %s '%s': expected a number from 0 to 1", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_seed(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > 9007199254740991ULL) {
        cmd_fail("corpus: --seed '%s': expected an integer in 0..9007199254740991", s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

static void show_progress(const char *phase, size_t done, size_t total, void *user) {
    (void)user;
    fprintf(stderr, "lrc corpus: %s %zu/%zu\n", phase, done, total);
}

int cmd_corpus(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    corpus_options opt = {.seed = 1,
                          .size = 0,
                          .eval_size = CORPUS_DEFAULT_EVAL_SIZE,
                          .episode_fraction = CORPUS_DEFAULT_EPISODE_FRACTION,
                          .mistake_fraction = CORPUS_DEFAULT_MISTAKE_FRACTION};
    const char *out = NULL;
    static const char *const value_options[] = {
        "--out", "--seed", "--size", "--eval-size", "--episode-fraction", "--mistake-fraction"};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *inline_value;
        const char *name = cmd_value_option(
            a, value_options, sizeof value_options / sizeof value_options[0], &inline_value);
        if (!name) {
            cmd_fail("corpus: unknown %s '%s'; run 'lrc corpus --help'",
                     a[0] == '-' ? "option" : "argument", a);
            return 2;
        }
        if (!inline_value && i + 1 >= argc) {
            cmd_fail("corpus: %s needs a value; run 'lrc corpus --help'", name);
            return 2;
        }
        const char *v = inline_value ? inline_value : argv[++i];
        int rc = 0;
        if (strcmp(name, "--out") == 0) {
            if (!*v) {
                cmd_fail("corpus: --out is empty; give a folder");
                return 2;
            }
            out = v;
        } else if (strcmp(name, "--seed") == 0) {
            rc = parse_seed(v, &opt.seed);
        } else if (strcmp(name, "--size") == 0) {
            rc = parse_size(name, v, 1, 100000000, &opt.size);
        } else if (strcmp(name, "--eval-size") == 0) {
            rc = parse_size(name, v, 1, 100000, &opt.eval_size);
        } else if (strcmp(name, "--episode-fraction") == 0) {
            rc = parse_fraction(name, v, &opt.episode_fraction);
        } else {
            rc = parse_fraction(name, v, &opt.mistake_fraction);
        }
        if (rc)
            return 2;
    }
    if (opt.size == 0)
        opt.size = corpus_default_size(opt.episode_fraction);
    if (!out) {
        cmd_fail("corpus: --out DIR is required; run 'lrc corpus --help'");
        return 2;
    }

    /* A missing folder is created (its parent must exist). */
    bool created = false;
    struct stat st;
    if (stat(out, &st) != 0) {
        if (mkdir(out, 0777) != 0) {
            cmd_fail("corpus: %s: cannot create the folder (%s); check that its parent exists", out,
                     strerror(errno));
            return 1;
        }
        created = true;
    } else if (!S_ISDIR(st.st_mode)) {
        cmd_fail("corpus: %s: not a folder; give a new or empty folder", out);
        return 1;
    }

    corpus_summary sum;
    lrc_error err;
    if (corpus_write(&opt, out, &sum, show_progress, NULL, &err)) {
        cmd_fail("corpus: %s", err.msg);
        if (created)
            rmdir(out);
        return 1;
    }

    size_t eval_total = 0;
    for (int f = 0; f < CORPUS_N_FAMILIES; f++)
        eval_total += sum.eval_tasks[f];
    printf("wrote %s: %zu documents, %.1f MB in train.jsonl, %zu held-out tasks in eval.jsonl\n",
           out, sum.n_docs, (double)sum.train_bytes / 1e6, eval_total);
    printf("%-12s %8s %9s %9s %10s %5s\n", "family", "tasks", "episodes", "mistakes", "documents",
           "eval");
    for (int f = 0; f < CORPUS_N_FAMILIES; f++) {
        size_t docs = 0;
        for (int s = 0; s < CORPUS_N_STAGES; s++)
            docs += sum.docs[f][s];
        printf("%-12s %8zu %9zu %9zu %10zu %5zu\n", corpus_family_name((corpus_family)f),
               sum.tasks[f], sum.episodes[f], sum.mistakes[f], docs, sum.eval_tasks[f]);
    }
    return 0;
}
