/*
 * lrc tokenizer: commands that make tokenizers. `lrc tokenizer train` learns a
 * byte-level BPE tokenizer from training text and writes tokenizer.json and
 * tokenizer_config.json. This file parses arguments and prints progress and
 * messages. The work is done by tokenizer_train/.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "tokenizer_train/bpe_input.h"
#include "tokenizer_train/bpe_train.h"

#define DEFAULT_SPECIALS "<|endoftext|>,<|im_start|>,<|im_end|>"
#define DEFAULT_MIN_FREQUENCY 2
#define DEFAULT_MODEL_MAX_LENGTH 2048

static const char tokenizer_usage[] =
    "usage: lrc tokenizer <subcommand> [options]\n"
    "\n"
    "Subcommands:\n"
    "  train    learn a byte-level BPE tokenizer from training text\n"
    "\n"
    "Run 'lrc tokenizer <subcommand> --help' for its options, or see lrc-tokenizer(1).\n";

static const char train_usage[] =
    "usage: lrc tokenizer train --data PATH --vocab N --out FILE [--special LIST]\n"
    "                           [--min-frequency N] [--model-max-length N]\n"
    "\n"
    "Learn a byte-level BPE tokenizer from the text under PATH and write it as a\n"
    "Hugging Face tokenizer.json (FILE) with tokenizer_config.json beside it.\n"
    "PATH is a folder, whose *.jsonl files (the \"text\" field of each line) and\n"
    "*.txt files are read in name order, or one such file. Digits are always\n"
    "single tokens. Special tokens in the text become their own ids and are never\n"
    "part of a merge. The same text and options give the same files.\n"
    "\n"
    "Options:\n"
    "  --data PATH            training text: a folder or one .jsonl or .txt file\n"
    "  --vocab N              vocabulary size, special and 256 byte tokens included\n"
    "  --out FILE             the tokenizer.json to write; a folder means\n"
    "                         FOLDER/tokenizer.json\n"
    "  --special LIST         comma-separated special tokens, ids 0, 1, ... in order\n"
    "                         (default " DEFAULT_SPECIALS ")\n"
    "  --min-frequency N      merge only pairs seen at least N times (default 2)\n"
    "  --model-max-length N   model_max_length in tokenizer_config.json\n"
    "                         (default 2048)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Options that take a value also accept --option=value.\n";

/* Progress on stderr: a line rewritten in place on a terminal, otherwise one
 * line per tenth of the merges. */
typedef struct progress_state {
    int tty;
    size_t last_tenth;
    time_t last_draw;
} progress_state;

static void on_file(void *user, const char *path, uint64_t bytes) {
    (void)user;
    fprintf(stderr, "reading %s (%.1f MB)\n", path, (double)bytes / 1e6);
}

static void on_merge(void *user, size_t done, size_t total) {
    progress_state *p = user;
    if (p->tty) {
        time_t now = time(NULL);
        if (now != p->last_draw || done == total) {
            fprintf(stderr, "\rmerges %zu/%zu", done, total);
            p->last_draw = now;
        }
        return;
    }
    size_t tenth = total ? done * 10 / total : 10;
    if (tenth != p->last_tenth) {
        fprintf(stderr, "merges %zu/%zu\n", done, total);
        p->last_tenth = tenth;
    }
}

/* Parse a whole decimal number in [lo, hi]. */
static int parse_size(const char *opt, const char *s, size_t lo, size_t hi, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno == ERANGE || v < lo || v > hi) {
        cmd_fail("tokenizer train: %s '%s' is invalid; expected a whole number from %zu to %zu",
                 opt, s, lo, hi);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* Split a comma-separated list in place. The strings of *out point into s. */
static int split_specials(char *s, char ***out, size_t *n_out) {
    size_t n = *s ? 1 : 0;
    for (const char *p = s; *p; p++)
        n += *p == ',';
    char **v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return -1;
    size_t k = 0;
    for (char *p = s; n && p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        v[k++] = p;
        p = comma ? comma + 1 : NULL;
    }
    *out = v;
    *n_out = k;
    return 0;
}

/* The file to write: --out itself, or FOLDER/tokenizer.json when --out is a
 * folder (an existing one, or a name ending in '/'). */
static char *output_path(const char *out) {
    struct stat sb;
    size_t n = strlen(out);
    int is_dir = (n && out[n - 1] == '/') || (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode));
    char *path = malloc(n + sizeof "/tokenizer.json");
    if (!path)
        return NULL;
    if (is_dir)
        sprintf(path, "%s%stokenizer.json", out, out[n - 1] == '/' ? "" : "/");
    else
        strcpy(path, out);
    return path;
}

static int train_main(int argc, char **argv) {
    if (cmd_wants_help(argc, argv)) {
        fputs(train_usage, stdout);
        return 0;
    }

    const char *data = NULL, *out = NULL, *vocab_arg = NULL, *specials_arg = DEFAULT_SPECIALS;
    size_t min_frequency = DEFAULT_MIN_FREQUENCY, max_length = DEFAULT_MODEL_MAX_LENGTH;
    for (int i = 1; i < argc; i++) {
        /* --option value, or --option=value */
        char opt[32];
        const char *a = argv[i], *v;
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        if (eq && (size_t)(eq - a) < sizeof opt) {
            memcpy(opt, a, (size_t)(eq - a));
            opt[eq - a] = '\0';
            a = opt;
            v = eq + 1;
        } else {
            v = i + 1 < argc ? argv[++i] : NULL;
        }
        int takes_value = strcmp(a, "--data") == 0 || strcmp(a, "--vocab") == 0 ||
                          strcmp(a, "--out") == 0 || strcmp(a, "--special") == 0 ||
                          strcmp(a, "--min-frequency") == 0 || strcmp(a, "--model-max-length") == 0;
        if (!takes_value) {
            cmd_fail("tokenizer train: unknown option '%s'; run 'lrc tokenizer train --help'", a);
            return 2;
        }
        if (!v) {
            cmd_fail("tokenizer train: %s needs a value; run 'lrc tokenizer train --help'", a);
            return 2;
        }
        if (strcmp(a, "--data") == 0)
            data = v;
        else if (strcmp(a, "--out") == 0)
            out = v;
        else if (strcmp(a, "--vocab") == 0)
            vocab_arg = v;
        else if (strcmp(a, "--special") == 0)
            specials_arg = v;
        else if (strcmp(a, "--min-frequency") == 0 &&
                 parse_size(a, v, 1, (size_t)1 << 62, &min_frequency))
            return 2;
        else if (strcmp(a, "--model-max-length") == 0 &&
                 parse_size(a, v, 1, (size_t)1 << 30, &max_length))
            return 2;
    }
    if (!data || !out || !vocab_arg) {
        cmd_fail("tokenizer train: --data, --vocab and --out are required; run 'lrc tokenizer "
                 "train --help'");
        return 2;
    }
    size_t vocab;
    if (parse_size("--vocab", vocab_arg, 1, BPE_MAX_VOCAB, &vocab))
        return 2;

    /* Options first, so a mistake is reported before any text is read. */
    char *specials_copy = malloc(strlen(specials_arg) + 1);
    char **specials = NULL;
    size_t n_specials = 0;
    if (!specials_copy || !strcpy(specials_copy, specials_arg) ||
        split_specials(specials_copy, &specials, &n_specials)) {
        free(specials_copy);
        cmd_fail("tokenizer train: out of memory");
        return 1;
    }
    lrc_error err;
    bpe_trainer *tr = NULL;
    int status = 0;
    if (bpe_trainer_new(&tr, (const char *const *)specials, n_specials, &err)) {
        cmd_fail("tokenizer train: --special: %s", err.msg);
        status = 2;
    } else if (bpe_trainer_check_size(tr, vocab, &err)) {
        cmd_fail("tokenizer train: --vocab: %s", err.msg);
        status = 2;
    }
    free(specials);
    free(specials_copy);
    char *path = status ? NULL : output_path(out);
    if (!status && !path) {
        cmd_fail("tokenizer train: out of memory");
        status = 1;
    }
    if (!status && bpe_output_check(path, &err)) {
        cmd_fail("tokenizer train: --out: %s", err.msg);
        status = 1;
    }

    /* Count the words, learn the merges, write the files. */
    bpe_input_stats st;
    if (!status && bpe_input_read(tr, data, &st, on_file, NULL, &err)) {
        cmd_fail("tokenizer train: %s", err.msg);
        status = 1;
    }
    if (!status) {
        fprintf(stderr, "counted %llu words (%zu distinct) in %zu documents of %zu files",
                (unsigned long long)bpe_trainer_word_count(tr), bpe_trainer_unique_words(tr),
                st.documents, st.files);
        if (st.skipped_lines)
            fprintf(stderr, "; skipped %zu .jsonl lines without a \"text\" string",
                    st.skipped_lines);
        fputc('\n', stderr);

        progress_state ps = {isatty(STDERR_FILENO), (size_t)-1, 0};
        if (bpe_trainer_train(tr, vocab, min_frequency, on_merge, &ps, &err)) {
            if (ps.tty)
                fputc('\n', stderr);
            cmd_fail("tokenizer train: %s", err.msg);
            status = 1;
        } else if (ps.tty && bpe_trainer_merge_count(tr)) {
            fputc('\n', stderr);
        }
    }
    if (!status && bpe_trainer_vocab_size(tr) < vocab)
        fprintf(stderr,
                "stopped at %zu tokens of %zu: no remaining pair occurs %zu times or more "
                "(--min-frequency)\n",
                bpe_trainer_vocab_size(tr), vocab, min_frequency);

    /* Ctrl-C before this point loses nothing, because nothing is written yet.
     * While the files are written and renamed, SIGINT and SIGTERM wait, so
     * they cannot leave a temporary file behind. */
    sigset_t stop_signals, old_mask;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop_signals, &old_mask);
    if (!status && bpe_trainer_write(tr, path, max_length, &err)) {
        cmd_fail("tokenizer train: %s", err.msg);
        status = 1;
    }
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (!status)
        fprintf(stderr, "wrote %s and tokenizer_config.json: %zu tokens (%zu merges)\n", path,
                bpe_trainer_vocab_size(tr), bpe_trainer_merge_count(tr));

    free(path);
    bpe_trainer_free(tr);
    return status;
}

int cmd_tokenizer(int argc, char **argv) {
    if (argc < 2) {
        fputs(tokenizer_usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        /* The subcommands, then each one's help, so one page lists every option. */
        fputs(tokenizer_usage, stdout);
        fputs("\n", stdout);
        fputs(train_usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "train") == 0)
        return train_main(argc - 1, argv + 1);
    cmd_fail("tokenizer: '%s' is not a subcommand; run 'lrc tokenizer --help' for the list",
             argv[1]);
    return 2;
}
