#!/usr/bin/env bash
# Scores VoicePipe's detectors on this corpus: runs `voicepipe vad --json` (release build) on every clip
# for each model, keeps the outputs in results/<model>/, and writes results/voicepipe-scores.{txt,json}.
# Usage: bash TestVectors/vad/score_voicepipe.sh   (needs python3 with numpy for score.py)
set -euo pipefail
cd "$(dirname "$0")"
root=../..
(cd "$root" && swift build -c release --product voicepipe >/dev/null)
bin="$(cd "$root" && swift build -c release --show-bin-path)/voicepipe"
for model in silero classic; do
    mkdir -p "results/$model"
    for clip in clips/*.wav; do
        "$bin" vad "$clip" --json --model "$model" > "results/$model/$(basename "$clip" .wav).json"
    done
done
python3 score.py labels.json results/silero results/classic --markdown --json results/voicepipe-scores.json \
    | tee results/voicepipe-scores.txt
