#include "CPocketSphinxShims.h"

#include <sphinxbase/cmn.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>

cmd_ln_t *cps_config_create(int count, const char *const *names_and_values) {
    if (count < 0 || count % 2 != 0)
        return NULL;
    // cmd_ln_parse_r takes a non-const argv but does not modify it.
    return cmd_ln_parse_r(NULL, ps_args(), count, (char **)names_and_values, TRUE);
}

void cps_disable_logging(void) {
    err_set_logfp(NULL);
}

int cps_cepstral_mean(ps_decoder_t *decoder, float *out, int capacity) {
    feat_t *feat = ps_get_feat(decoder);
    if (feat == NULL || feat->cmn_struct == NULL)
        return 0;
    int count = feat->cmn_struct->veclen;
    if (count > capacity)
        return -1;
    for (int i = 0; i < count; i++)
        out[i] = (float)feat->cmn_struct->cmn_mean[i];
    return count;
}
