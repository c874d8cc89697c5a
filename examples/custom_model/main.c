/* A Myriad program with one more model: registers `opinion` next to the built-in models, then
 * hands the command line to the library (myr_main: run, validate, models, info, config). */
#include <stdio.h>

#include "opinion.h" /* opinion_model */
#include "sim/cli.h" /* myr_main */

int main(int argc, char **argv) {
  if (myr_register_model(&opinion_model) != MYR_OK) return 1; /* the reason is on stderr */
  return myr_main(argc, argv);
}
