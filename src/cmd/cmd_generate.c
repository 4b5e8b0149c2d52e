/* PLACEHOLDER: replaced by the forward-pass work. */
#include "cmd/cmd.h"
int cmd_generate(int argc, char **argv) { (void)argc; (void)argv; cmd_fail("generate: not built yet"); return 1; }
