#!/usr/bin/env bash
# VoicePipe developer entry point. Installs missing Debian packages itself (when root), then:
#   ./dev.sh demo            the main job: the server and a simulated Twilio call; prints each turn's latency
#   ./dev.sh test            every test: unit, golden-vector and CLI tests, then the ring buffer under TSan
#   ./dev.sh bench           the benchmarks (release build, ordo-one/benchmark)
#   ./dev.sh fuzz [SECONDS]  fuzz the WAV parser, the Media Streams reader, the hosted providers' parsers and the
#                            Messaging webhooks with libFuzzer (default 60 s each)
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(libopus-dev libsamplerate0-dev pkg-config)
# VoiceSpeechLocal: offline recognition (pocketsphinx and its en-us model) and synthesis (espeak-ng).
APT_PACKAGES+=(libpocketsphinx-dev pocketsphinx-en-us libespeak-ng-dev)
# Test data only: real recorded telephone prompts with published transcripts (VoiceSpeechLocalTests).
APT_PACKAGES+=(asterisk-core-sounds-en-wav)

ensure_packages() {
    local missing=()
    for package in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        echo "dev.sh: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "dev.sh: missing Debian packages: ${missing[*]}" >&2
        echo "dev.sh: install them with: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
}

command -v swift >/dev/null || { echo "dev.sh: swift is not on PATH (Swift 6.1 or later is required)" >&2; exit 1; }

case "${1:-}" in
demo)
    ensure_packages
    swift build -c release --product voicepipe
    "$(swift build -c release --show-bin-path)/voicepipe" demo
    ;;
test)
    ensure_packages
    swift build --build-tests
    # One test at a time: the server tests run calls in real time over sockets, and on 2 cores the CPU-bound
    # suites running beside them would starve those calls (a flood check or a reply deadline then fails).
    swift test --skip-build --no-parallel
    # The lock-free ring buffer under ThreadSanitizer, in a build folder of its own. Release mode and
    # VOICEPIPE_TSAN (element-wise slot copies) are what make TSan see the slot accesses: a ring whose
    # producer publishes with a relaxed store instead of a releasing one is reported only this way.
    VOICEPIPE_CORE_ONLY=1 swift test -c release --sanitize=thread -Xswiftc -DVOICEPIPE_TSAN --scratch-path .build-tsan \
        --filter SPSCRingBuffer
    ;;
bench)
    APT_PACKAGES+=(libsoxr-dev libspeexdsp-dev)  # the resamplers the benchmarks compare against
    ensure_packages
    VOICEPIPE_BENCHMARKS=1 swift package benchmark --target VoiceDSPBenchmarks "${@:2}"
    ;;
fuzz)
    ensure_packages
    bash Fuzz/fuzz.sh all "${2:-60}"
    ;;
*)
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
