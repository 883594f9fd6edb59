#!/usr/bin/env bash
# Word error rate of a voicepipe binary on the two speech sets. Builds nothing.
#
#   TestVectors/speech/run.sh /path/to/voicepipe [OUT_DIR]
#
# Runs, from the repository root (so relative paths in the sets resolve):
#   voicepipe transcribe --list TestVectors/speech/prompts.tsv --stt-vocabulary open      (open set)
#   voicepipe transcribe --list TestVectors/speech/domain.tsv  --stt-vocabulary open      (in-domain, no biasing)
#   voicepipe transcribe --list TestVectors/speech/domain.tsv  --stt-vocabulary playbook  (in-domain, playbook vocabulary)
# and scores each with score.py (sclite and the built-in Levenshtein WER).
# RUNS="prompts:open domain:playbook" selects other set:vocabulary pairs.
# Hypotheses, logs and sclite files go to OUT_DIR (default: a new /tmp/voicepipe-wer.* directory).
# Exit status: 0 if every run transcribed and scored with sclite and Levenshtein agreeing.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
voicepipe="$1"
case "$voicepipe" in /*) ;; *) voicepipe="$PWD/$voicepipe" ;; esac
[ -x "$voicepipe" ] || { echo "run.sh: $voicepipe is not an executable" >&2; exit 2; }
out="${2:-$(mktemp -d /tmp/voicepipe-wer.XXXXXX)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
runs="${RUNS:-prompts:open domain:open domain:playbook}"

cd "$repo" || exit 2
status=0
summary=()
for run in $runs; do
  set_name="${run%%:*}"
  vocabulary="${run#*:}"
  set_file="TestVectors/speech/$set_name.tsv"
  name="$set_name-$vocabulary"
  echo "== $name: $(wc -l < "$set_file") items from $set_file, --stt-vocabulary $vocabulary"
  start=$(date +%s)
  if ! "$voicepipe" transcribe --list "$set_file" --stt-vocabulary "$vocabulary" \
      > "$out/$name.hyp.tsv" 2> "$out/$name.transcribe.log"; then
    echo "run.sh: voicepipe transcribe failed for $name; see $out/$name.transcribe.log" >&2
    tail -5 "$out/$name.transcribe.log" >&2
    status=1
    summary+=("$name: transcribe failed")
    continue
  fi
  echo "   transcribed in $(( $(date +%s) - start )) s -> $out/$name.hyp.tsv"
  python3 "$here/score.py" "$set_file" "$out/$name.hyp.tsv" --details --keep "$out/$name.sclite" \
    | tee "$out/$name.score.txt"
  rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || status=1
  summary+=("$(printf '%-16s %s' "$name" "$(grep '^RESULT ' "$out/$name.score.txt" | cut -d' ' -f2-)")$([ "$rc" -eq 0 ] || echo "  (score.py exit $rc)")")
done

echo
echo "== summary (voicepipe: $voicepipe; output: $out)"
printf '%s\n' "${summary[@]}"
exit $status
