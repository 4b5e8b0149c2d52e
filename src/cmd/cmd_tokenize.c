/* PLACEHOLDER: replaced by the tokenizer work. */
#include "cmd/cmd.h"
int cmd_tokenize(int argc, char **argv) { (void)argc; (void)argv; cmd_fail("tokenize: not built yet"); return 1; }
int cmd_detokenize(int argc, char **argv) { (void)argc; (void)argv; cmd_fail("detokenize: not built yet"); return 1; }
