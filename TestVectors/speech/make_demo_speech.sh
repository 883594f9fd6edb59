#!/usr/bin/env bash
# Build TestVectors/speech/demo-call.wav: a short, natural-sounding phone
# message assembled from Debian's asterisk-core-sounds-en-wav prompts
# (English, female voice "Allison", 8 kHz 16-bit mono WAV).
#
#   apt-get install asterisk-core-sounds-en-wav sox
#   bash TestVectors/speech/make_demo_speech.sh
#
# Output: RIFF WAVE, PCM 16-bit signed little-endian, mono, 8000 Hz.
# The prompts are used unmodified; only silence is inserted between them:
# ${WORD_GAP}s between prompts of one sentence, ${SENTENCE_GAP}s between
# sentences. Dithering is disabled (sox -D), so the output is bit-exact
# reproducible for the same package version.
set -euo pipefail

SOUNDS_DIR="${SOUNDS_DIR:-/usr/share/asterisk/sounds/en_US_f_Allison}"
OUT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$OUT_DIR/demo-call.wav"
WORD_GAP=0.3
SENTENCE_GAP=1.0

# One sentence per line; prompts (relative to SOUNDS_DIR, without .wav)
# separated by spaces.
SENTENCES=(
  "hello"
  "vm-theperson digits/2 digits/0 digits/1 vm-isunavail"
  "please-try-call-later"
  "goodbye"
)

die() { echo "make_demo_speech.sh: $*" >&2; exit 1; }

command -v sox >/dev/null || die "sox not found (apt-get install sox)"
[ -d "$SOUNDS_DIR" ] || die "$SOUNDS_DIR not found (apt-get install asterisk-core-sounds-en-wav)"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Silence segments in the target format.
sox -D -n -r 8000 -c 1 -b 16 -e signed-integer "$TMP/word-gap.wav" trim 0 "$WORD_GAP"
sox -D -n -r 8000 -c 1 -b 16 -e signed-integer "$TMP/sentence-gap.wav" trim 0 "$SENTENCE_GAP"

INPUTS=()
n=0
echo "Prompts (from $SOUNDS_DIR):"
for s in "${!SENTENCES[@]}"; do
  if [ "$s" -gt 0 ]; then
    INPUTS+=("$TMP/sentence-gap.wav")
  fi
  first=1
  for p in ${SENTENCES[$s]}; do
    f="$SOUNDS_DIR/$p.wav"
    [ -f "$f" ] || die "missing prompt $f"
    fmt="$(soxi -r "$f") $(soxi -c "$f") $(soxi -b "$f") $(soxi -e "$f")"
    [ "$fmt" = "8000 1 16 Signed Integer PCM" ] || die "$f has unexpected format: $fmt"
    if [ "$first" -eq 0 ]; then
      INPUTS+=("$TMP/word-gap.wav")
    fi
    first=0
    INPUTS+=("$f")
    n=$((n + 1))
    printf '  %d. sentence %d: %s.wav (%s s)\n' "$n" "$((s + 1))" "$p" "$(soxi -D "$f")"
  done
done

# Concatenate; force the output format explicitly, no dither.
sox -D "${INPUTS[@]}" -r 8000 -c 1 -b 16 -e signed-integer -t wav "$OUT"

echo "Wrote $OUT"
echo "  format:   $(soxi -t "$OUT") $(soxi -r "$OUT") Hz, $(soxi -c "$OUT") ch, $(soxi -b "$OUT")-bit $(soxi -e "$OUT")"
echo "  duration: $(soxi -D "$OUT") s ($(soxi -s "$OUT") samples)"
echo "  size:     $(wc -c < "$OUT") bytes"
echo "  sha256:   $(sha256sum "$OUT" | cut -d' ' -f1)"
