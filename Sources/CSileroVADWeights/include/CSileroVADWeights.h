// Silero VAD weights (MIT licence, Copyright (c) 2020-present Silero Team), compiled in.
// Generated arrays: see TestVectors/silero/make_c_weights.py and TestVectors/silero/README.md.
#pragma once

/// The 8 kHz model's weights, in the order and layout of TestVectors/silero/silero_vad_8k.json.
const float *csilero_vad_weights_8k(void);
/// The number of floats behind csilero_vad_weights_8k().
int csilero_vad_weight_count_8k(void);
/// The 16 kHz model's weights, in the order and layout of TestVectors/silero/silero_vad_16k.json.
const float *csilero_vad_weights_16k(void);
/// The number of floats behind csilero_vad_weights_16k().
int csilero_vad_weight_count_16k(void);
