/* The command line (DESIGN §10). Out-of-tree programs register their models with
 * myr_register_model() and then call myr_main(), getting the whole CLI with their models.
 *
 *   myriad run CONFIG [--steps N] [--threads N] [--backend cpu|cuda] [--set k=v]...
 *                     [--output FILE] [--resume CKPT] [--quiet]
 *   myriad validate CONFIG [--set k=v]...
 *   myriad models [NAME]
 *   myriad info RESULT.h5
 *   myriad config --defaults [--model NAME]
 *
 * Returns the process exit code (myr_exit_code of the outcome). */
#ifndef MYR_CLI_H
#define MYR_CLI_H

#ifdef __cplusplus
extern "C" {
#endif

int myr_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
