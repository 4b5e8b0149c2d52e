/* PLACEHOLDER: replaced by the forward-pass work. */
#include "cmd/cmd.h"
int cmd_perplexity(int argc, char **argv) { (void)argc; (void)argv; cmd_fail("perplexity: not built yet"); return 1; }
