#!/usr/bin/env bash
# Fuzz the WAV parser with libFuzzer + AddressSanitizer for SECONDS (default 60).
# Usage: bash Fuzz/fuzz-wav.sh [SECONDS]
# Builds .build-fuzz/wav-fuzzer from VoiceDSP's IO and G711 sources and Fuzz/WAVParserFuzzer.swift, seeds the corpus
# with every WAV under TestVectors/, and stops at the first crash (the input is saved in Fuzz/artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
mkdir -p .build-fuzz Fuzz/corpus Fuzz/artifacts
find TestVectors -name '*.wav' -size -300k -exec cp {} Fuzz/corpus/ \;
# The WAV parser and what it uses (G.711); the rest of VoiceDSP needs C modules the parser does not.
mapfile -t sources < <(find Sources/VoiceDSP/IO Sources/VoiceDSP/G711 -name '*.swift' | sort)
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name VoiceDSPFuzz \
    -enable-upcoming-feature ExistentialAny -enable-upcoming-feature InternalImportsByDefault \
    "${sources[@]}" Fuzz/WAVParserFuzzer.swift -o .build-fuzz/wav-fuzzer
.build-fuzz/wav-fuzzer -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    -artifact_prefix=Fuzz/artifacts/ Fuzz/corpus
