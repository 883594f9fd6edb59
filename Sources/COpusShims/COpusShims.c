#include "COpusShims.h"

int copus_encoder_set_bitrate(OpusEncoder *encoder, opus_int32 bitrate) {
    return opus_encoder_ctl(encoder, OPUS_SET_BITRATE(bitrate));
}

int copus_encoder_get_bitrate(OpusEncoder *encoder, opus_int32 *bitrate) {
    return opus_encoder_ctl(encoder, OPUS_GET_BITRATE(bitrate));
}

int copus_encoder_set_complexity(OpusEncoder *encoder, opus_int32 complexity) {
    return opus_encoder_ctl(encoder, OPUS_SET_COMPLEXITY(complexity));
}

int copus_encoder_set_inband_fec(OpusEncoder *encoder, opus_int32 enabled) {
    return opus_encoder_ctl(encoder, OPUS_SET_INBAND_FEC(enabled));
}

int copus_encoder_set_packet_loss_percentage(OpusEncoder *encoder, opus_int32 percentage) {
    return opus_encoder_ctl(encoder, OPUS_SET_PACKET_LOSS_PERC(percentage));
}

int copus_encoder_get_lookahead(OpusEncoder *encoder, opus_int32 *samples) {
    return opus_encoder_ctl(encoder, OPUS_GET_LOOKAHEAD(samples));
}

int copus_decoder_get_last_packet_duration(OpusDecoder *decoder, opus_int32 *samples) {
    return opus_decoder_ctl(decoder, OPUS_GET_LAST_PACKET_DURATION(samples));
}
