#!/usr/bin/env bash
# Build the WAV reader fixtures in TestVectors/wav/ with SoX, an independent
# tool, from one synthetic source signal. Then check them and write
# manifest.json and SHA256SUMS with verify_fixtures.py (Python 3.11/3.12, stdlib only).
#
#   apt-get install sox
#   bash TestVectors/wav/make_fixtures.sh
#
# The output is deterministic and the script can be re-run. Every sox call uses
#   -D  no automatic dither. Without it, sox adds TPDF dither whenever it lowers
#       precision: 16-bit -> mu-law/A-law, and remix output -> 16-bit.
#   -R  fixed seed for sox's random number generator. In SoX 14.4.2 this is NOT
#       the default: two runs without -R give different dithered output.
# Synthetic input must name its rate and channel count BEFORE `-n`. With
# `sox -n -r 8000 out.wav synth ...` the null input runs at 48 kHz and sox
# inserts a `rate` effect (48 kHz -> 8 kHz), which filters and delays the tone.
set -euo pipefail

OUT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXPECTED_SOX_VERSION="SoX v14.4.2"
DURATION=0.25   # seconds; 2000 frames at 8000 Hz
RATE=8000

die() { echo "make_fixtures.sh: $*" >&2; exit 1; }

command -v sox >/dev/null || die "sox not found (apt-get install sox)"
command -v python3 >/dev/null || die "python3 not found"
SOX_VERSION="$(sox --version | grep -o 'SoX v[^ ]*')"
if [ "$SOX_VERSION" != "$EXPECTED_SOX_VERSION" ]; then
  echo "make_fixtures.sh: warning: found '$SOX_VERSION', fixtures were made with '$EXPECTED_SOX_VERSION';" \
       "the output bytes may differ (verify_fixtures.py still checks every claim)" >&2
fi

sx() { sox -D -R "$@"; }

# Scratch files live inside OUT_DIR and are removed on exit.
TMP="$(mktemp -d "$OUT_DIR/.tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

cd "$OUT_DIR"
PCM16=(-e signed-integer -b 16)

# 1. The source tone, mono 16-bit PCM at 8 kHz: 0.5*sin(440 Hz) + 0.25*sin(1000 Hz),
#    i.e. 440 Hz at -6.02 dBFS plus 1 kHz at -12.04 dBFS (peak 0.75 of full scale).
#    `synth ... mix` outputs (input + new tone) / 2, so the chain gives
#    (0.5*s1000 + s440) / 2 = 0.5*s440 + 0.25*s1000.
sx -r "$RATE" -c 1 -n "${PCM16[@]}" tone_pcm16.wav \
  synth "$DURATION" sine 1000 vol 0.5 synth "$DURATION" sine mix 440

# 2. 32-bit float (format tag 3), converted from the 16-bit file.
sx tone_pcm16.wav -e floating-point -b 32 tone_float32.wav

# 3. mu-law (format tag 7) and sox's own decode of it back to 16-bit PCM.
sx tone_pcm16.wav -e u-law -b 8 tone_mulaw.wav
sx tone_mulaw.wav "${PCM16[@]}" tone_mulaw_decoded_pcm16.wav

# 4. A-law (format tag 6) and sox's decode.
sx tone_pcm16.wav -e a-law -b 8 tone_alaw.wav
sx tone_alaw.wav "${PCM16[@]}" tone_alaw_decoded_pcm16.wav

# 5. Stereo: left = the tone (bit-identical), right = 300 Hz at half scale.
#    `-M` merges the inputs' channels side by side without changing any sample.
sx -r "$RATE" -c 1 -n "${PCM16[@]}" "$TMP/sine300.wav" synth "$DURATION" sine 300 vol 0.5
sx -M tone_pcm16.wav "$TMP/sine300.wav" stereo_pcm16.wav
#    sox's mono average: out = 0.5*L + 0.5*R, computed in double, rounded to 16 bits.
sx stereo_pcm16.wav "${PCM16[@]}" stereo_mixdown_pcm16.wav remix 1v0.5,2v0.5

# 6. WAVE_FORMAT_EXTENSIBLE (tag 0xFFFE): sox 14.4.2 writes it for more than 2 channels
#    or more than 16 bits per sample of integer PCM.
#    Three channels: the tone, the 300 Hz sine, a 700 Hz sine at half scale.
sx -r "$RATE" -c 1 -n "${PCM16[@]}" "$TMP/sine700.wav" synth "$DURATION" sine 700 vol 0.5
sx -M tone_pcm16.wav "$TMP/sine300.wav" "$TMP/sine700.wav" three_channel_pcm16_extensible.wav
#    `remix 1-3` in sox's default (automatic) mode gives each channel the volume 1/3.
sx three_channel_pcm16_extensible.wav "${PCM16[@]}" three_channel_mixdown_pcm16.wav remix 1-3
#    24-bit PCM (extensible); the samples are those of tone_pcm16.wav shifted left by 8 bits.
sx tone_pcm16.wav -e signed-integer -b 24 tone_pcm24_extensible.wav

# Cross-check: other sox spellings of "average to mono" must give the same bytes,
# and a spelling that sums must not.
same() { cmp -s "$1" "$2" || die "$1 differs from $2"; }
sx stereo_pcm16.wav "$TMP/a.wav" remix 1-2;      same "$TMP/a.wav" stereo_mixdown_pcm16.wav
sx stereo_pcm16.wav "$TMP/b.wav" remix 1,2;      same "$TMP/b.wav" stereo_mixdown_pcm16.wav
sx stereo_pcm16.wav "$TMP/c.wav" channels 1;     same "$TMP/c.wav" stereo_mixdown_pcm16.wav
sx stereo_pcm16.wav -c 1 "$TMP/d.wav";           same "$TMP/d.wav" stereo_mixdown_pcm16.wav
sx three_channel_pcm16_extensible.wav "$TMP/e.wav" channels 1
same "$TMP/e.wav" three_channel_mixdown_pcm16.wav
sx stereo_pcm16.wav "$TMP/f.wav" remix -m 1,2 2>/dev/null   # manual mode: a plain sum (clips)
cmp -s "$TMP/f.wav" stereo_mixdown_pcm16.wav && die "'remix -m 1,2' unexpectedly averages"
echo "sox mixdown spellings: remix 1v0.5,2v0.5 == remix 1-2 == remix 1,2 == channels 1 == -c 1;" \
     "remix -m 1,2 sums (differs)"

# Check every claim and write manifest.json and SHA256SUMS.
# It also pipes every Int16 value through sox's mu-law and A-law encoders (no files).
python3 -W ignore::DeprecationWarning "$OUT_DIR/verify_fixtures.py" --sox-version "$SOX_VERSION" --write
