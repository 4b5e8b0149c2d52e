/*
 * lrc: one binary with git-style subcommands. This file contains the command
 * table and the dispatch. Every subcommand parses its own arguments.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"

static const lrc_command commands[] = {
    {"info", "show what a model directory or file holds", cmd_info},
    {"tokenize", "turn text into token ids with a model's tokenizer", cmd_tokenize},
    {"detokenize", "turn token ids back into text", cmd_detokenize},
    {"generate", "generate text from a prompt", cmd_generate},
    {"perplexity", "measure a model's perplexity on a text file", cmd_perplexity},
    {"distill", "distil a teacher into a low-rank student (Low-Rank Clone)", cmd_distill},
    {"pretrain", "train every weight of a model from a config", cmd_pretrain},
    {"studio", "open the studio: pick a teacher, distil it and watch it live", cmd_studio},
    {"ask", "answer a question with PR-CoT, CoT or one reflection", cmd_ask},
    {"eval", "measure CoT and PR-CoT accuracy on a JSONL task set", cmd_eval},
    {"corpus", "write the PR-CoT curriculum: training text and held-out tasks", cmd_corpus},
    {"tokenizer", "train a byte-level BPE tokenizer (lrc tokenizer train)", cmd_tokenizer},
    {"pull", "download a model from the Hugging Face Hub into the cache", cmd_pull},
};

static const size_t n_commands = sizeof commands / sizeof commands[0];

void cmd_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("lrc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cmd_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

const char *cmd_value_option(const char *arg, const char *const *names, size_t n_names,
                             const char **inline_value) {
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
    *inline_value = eq ? eq + 1 : NULL;
    for (size_t j = 0; j < n_names; j++)
        if (strlen(names[j]) == name_len && strncmp(arg, names[j], name_len) == 0)
            return names[j];
    return NULL;
}

static void print_usage(FILE *out) {
    fprintf(out, "usage: lrc <command> [options] [args]\n"
                 "       lrc --help | --version\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < n_commands; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'lrc <command> --help' for a command's options, or see lrc(1).\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        /* On a terminal, lrc alone opens the studio; in a pipe, the usage. */
        if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
            char name[] = "studio";
            char *studio_argv[] = {name, NULL};
            return cmd_studio(1, studio_argv);
        }
        print_usage(stdout);
        return 0;
    }

    const char *name = argv[1];
    if (strcmp(name, "help") == 0 && argc > 2) {
        /* lrc help COMMAND: that command's --help. */
        for (size_t i = 0; i < n_commands; i++)
            if (strcmp(argv[2], commands[i].name) == 0) {
                char help_opt[] = "--help";
                char *help_argv[] = {argv[2], help_opt, NULL};
                return commands[i].run(2, help_argv);
            }
        cmd_fail("help: '%s' is not an lrc command; run 'lrc --help' for the list", argv[2]);
        return 2;
    }
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
        printf("lrc (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
        return 0;
    }

    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);

    cmd_fail("'%s' is not an lrc command; run 'lrc --help' for the list", name);
    return 2;
}
