/* PLACEHOLDER: replaced by the model-loading work. */
#include "cmd/cmd.h"
int cmd_info(int argc, char **argv) { (void)argc; (void)argv; cmd_fail("info: not built yet"); return 1; }
