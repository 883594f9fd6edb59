#!/usr/bin/env bash
# Fuzz VoicePipe's parsers with libFuzzer + AddressSanitizer, each for SECONDS (default 60).
# Usage: bash Fuzz/fuzz.sh [wav|twilio|all] [SECONDS]
#   wav     the WAV parser (VoiceDSP/IO + G711 sources, Fuzz/WAVParserFuzzer.swift), seeded with every WAV
#           under TestVectors/
#   twilio  the Media Streams reader (TwilioMediaStreams/MediaStreams sources, Fuzz/MediaStreamFuzzer.swift),
#           seeded with the recorded Twilio frames; also checks the JSON scanner against Foundation's parser
# Builds into .build-fuzz/ and stops at the first crash (the input is saved in Fuzz/artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-all}"
seconds="${2:-60}"
mkdir -p .build-fuzz Fuzz/artifacts
flags=(-O -sanitize=fuzzer,address -parse-as-library -package-name VoicePipe
    -enable-upcoming-feature ExistentialAny -enable-upcoming-feature InternalImportsByDefault)

fuzz_wav() {
    mkdir -p Fuzz/corpus/wav
    find TestVectors -name '*.wav' -size -300k -exec cp {} Fuzz/corpus/wav/ \;
    # The WAV parser and what it uses (G.711); the rest of VoiceDSP needs C modules the parser does not.
    mapfile -t sources < <(find Sources/VoiceDSP/IO Sources/VoiceDSP/G711 -name '*.swift' | sort)
    swiftc "${flags[@]}" -module-name VoiceDSPFuzz "${sources[@]}" Fuzz/WAVParserFuzzer.swift -o .build-fuzz/wav-fuzzer
    .build-fuzz/wav-fuzzer -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix=Fuzz/artifacts/ Fuzz/corpus/wav
}

fuzz_twilio() {
    mkdir -p Fuzz/corpus/twilio
    local n=0
    while IFS= read -r line; do
        n=$((n + 1))
        printf '%s' "$line" > "Fuzz/corpus/twilio/call-$n.json"
    done < TestVectors/twilio/media_streams/bidirectional_call.twilio.jsonl
    while IFS= read -r line; do
        n=$((n + 1))
        printf '%s' "$line" > "Fuzz/corpus/twilio/app-$n.json"
    done < TestVectors/twilio/media_streams/bidirectional_call.app.jsonl
    # The reader and what it needs; the session (which needs VoiceDSP) is left out.
    local dir=Sources/TwilioMediaStreams/MediaStreams
    swiftc "${flags[@]}" -module-name TwilioFuzz \
        "$dir/JSONScanner.swift" "$dir/TwilioProtocolError.swift" "$dir/MediaStreamReader.swift" "$dir/Base64.swift" \
        "$dir/TwilioMessage.swift" "$dir/AppMessage.swift" "$dir/MediaStreamWriter.swift" Sources/TwilioCore/HexDigit.swift \
        Fuzz/MediaStreamFuzzer.swift -o .build-fuzz/twilio-fuzzer
    .build-fuzz/twilio-fuzzer -max_total_time="$seconds" -max_len=2048 -print_final_stats=1 \
        -artifact_prefix=Fuzz/artifacts/ Fuzz/corpus/twilio
}

case "$target" in
wav) fuzz_wav ;;
twilio) fuzz_twilio ;;
all) fuzz_wav && fuzz_twilio ;;
*) echo "usage: $0 [wav|twilio|all] [SECONDS]" >&2; exit 2 ;;
esac
