/* The `myriad` executable: the library's command line with the built-in models. */
#include "sim/cli.h"

int main(int argc, char **argv) { return myr_main(argc, argv); }
