#!/usr/bin/env bash
# Proves, from the release object code, that the G.711 buffer loops are vectorised for baseline x86-64:
# each must use packed SSE instructions and make no calls (a SIMD conversion that falls back to a
# library call, or a loop that stays scalar, fails this check).
# Usage: bash scripts/check-vectorised.sh   (builds VoiceDSP in release first)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname -m)" = x86_64 ] || { echo "check-vectorised: x86_64 only, skipped"; exit 0; }
swift build -c release --target VoiceDSP >/dev/null
objects="$(swift build -c release --show-bin-path)/VoiceDSP.build"
status=0
for entry in \
    "MuLaw:MuLawO6encode_4intoySRys5Int16VG_Srys5UInt8VGtFZ" \
    "MuLaw:MuLawO6decode_4intoySRys5UInt8VG_Srys5Int16VGtFZ" \
    "ALaw:ALawO6encode_4intoySRys5Int16VG_Srys5UInt8VGtFZ" \
    "ALaw:ALawO6decode_4intoySRys5UInt8VG_Srys5Int16VGtFZ"; do
    file="${entry%%:*}"
    symbol="${entry#*:}"
    body=$(objdump -d --no-show-raw-insn "$objects/$file.swift.o" |
        awk -v pat="$symbol" '/^[0-9a-f]+ <.*>:$/ { inside = index($0, pat) > 0 } inside')
    packed=$(grep -cE '\s(p(add|sub|and|or|xor|sll|srl|sra|unpck|ack|cmp|min|max|shuf)[a-z]*|(add|sub|mul)ps|cvtdq2ps|cvttps2dq)\s' <<<"$body" || true)
    calls=$(grep -cE '\scall' <<<"$body" || true)
    name=$(sed -E 's/.*O6(encode|decode).*/\1/' <<<"$symbol")
    if [ "$packed" -ge 20 ] && [ "$calls" -eq 0 ]; then
        echo "check-vectorised: $file.$name buffer loop: $packed packed SSE instructions, no calls: ok"
    else
        echo "check-vectorised: $file.$name buffer loop: $packed packed SSE instructions, $calls calls: NOT VECTORISED" >&2
        status=1
    fi
done
exit $status
