// What Swift cannot call in pocketsphinx 5prealpha: the variadic cmd_ln_init, and the feature
// extractor's cepstral mean (a field of a sphinxbase struct).
#pragma once
#include <pocketsphinx.h>

/// Builds a decoder configuration from `count` strings, option names and values alternating
/// ("-hmm", "/path", "-samprate", "16000", ...), checked against ps_args(). NULL when an option is
/// unknown, a value is malformed or `count` is odd. Free with cmd_ln_free_r.
cmd_ln_t *cps_config_create(int count, const char *const *names_and_values);

/// Turns sphinxbase's logging off for the whole process. Call once, before the first decoder: the
/// log destination is a process-wide global (so is `-logfn`, which closes the previous log file).
void cps_disable_logging(void);

/// Copies the decoder's current cepstral mean (the live CMN estimate) into `out`.
/// Returns the number of coefficients (13 for the en-us model), or -1 when `capacity` is too small.
int cps_cepstral_mean(ps_decoder_t *decoder, float *out, int capacity);
