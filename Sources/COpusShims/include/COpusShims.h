// Non-variadic wrappers for libopus's variadic opus_encoder_ctl / opus_decoder_ctl, which Swift cannot call.
#pragma once
#include <opus/opus.h>

int copus_encoder_set_bitrate(OpusEncoder *encoder, opus_int32 bitrate);
int copus_encoder_get_bitrate(OpusEncoder *encoder, opus_int32 *bitrate);
int copus_encoder_set_complexity(OpusEncoder *encoder, opus_int32 complexity);
int copus_encoder_set_inband_fec(OpusEncoder *encoder, opus_int32 enabled);
int copus_encoder_set_packet_loss_percentage(OpusEncoder *encoder, opus_int32 percentage);
int copus_encoder_get_lookahead(OpusEncoder *encoder, opus_int32 *samples);
int copus_decoder_get_last_packet_duration(OpusDecoder *decoder, opus_int32 *samples);
