/*
 * The subcommand table. Each subcommand lives in its own file, parses its own
 * arguments and prints its own --help; main.c only dispatches. A command
 * returns the process exit status: 0 success, 1 failure, 2 usage error.
 */
#ifndef LRC_CMD_H
#define LRC_CMD_H

#include <stddef.h>

typedef struct lrc_command {
    const char *name;
    const char *summary; /* one line for `lrc --help` */
    int (*run)(int argc, char **argv);
} lrc_command;

int cmd_info(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_distill(int argc, char **argv);
int cmd_pretrain(int argc, char **argv);
int cmd_ask(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_corpus(int argc, char **argv);
int cmd_tokenizer(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_studio(int argc, char **argv);

/* Print "lrc: " + message to stderr. */
void cmd_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True when argv holds -h or --help (before any "--"). */
int cmd_wants_help(int argc, char **argv);

/* Match one argument against a command's value options, given as "--name
 * value" or "--name=value". Returns the entry of names it names, or NULL
 * when none; *inline_value is the text after '=', or NULL when there is
 * none and the value is the next argument. */
const char *cmd_value_option(const char *arg, const char *const *names, size_t n_names,
                             const char **inline_value);

#endif
