#!/usr/bin/env python3
"""Word error rate of a transcription run, by NIST sclite and by a plain Levenshtein.

    python3 TestVectors/speech/score.py SET.tsv HYP.tsv [--details] [--keep DIR]
                                        [--sclite PATH | --no-sclite] [--oh-is-zero]

SET.tsv: id <TAB> path <TAB> reference   (prompts.tsv, domain.tsv)
HYP.tsv: id <TAB> hypothesis text        (`voicepipe transcribe --list SET.tsv` output)

Hypotheses are normalised with normalise.py, exactly like the references. A set item with
no line in HYP.tsv is scored as an empty hypothesis (all its words deleted) and reported;
HYP lines whose id is not in the set are reported and ignored. Blank lines and lines
starting with "#" are skipped. A line without a tab is an id with an empty hypothesis.
--oh-is-zero rewrites the word "oh" as "zero" on both sides (a recogniser that writes "0"
for a spoken "oh" is then not charged a substitution).

The script writes sclite `trn` files (one line per set item, in set order, ids renamed
to `(utt_0001)`, `(utt_0002)`, ... because sclite needs `speaker_utterance` ids and
drops utterances missing from the hypothesis file without a word), runs
`sclite -r ref.trn trn -h hyp.trn trn -i rm -o sum pralign`, reads the overall Err % from
the Sum/Avg row and the C/S/D/I counts from the alignments, and computes the WER itself
with a word-level Levenshtein distance (substitution, deletion, insertion all cost 1).
sclite aligns with weights 4 (substitution) and 3 (insertion, deletion), which on rare,
badly garbled utterances picks an alignment with one more error than the minimum, so its
Err can be slightly above the Levenshtein WER; on ordinary output the two agree.

Exit status: 0 if both WERs agree within 0.1 point, 1 if they differ by more,
2 for bad input or a missing/failed sclite.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the repository
from normalise import normalise  # noqa: E402  (shared with make_sets.py)

TOLERANCE = 0.1  # percentage points
SCLITE_CANDIDATES = ["sclite", "/usr/lib/sctk/bin/sclite", "/usr/local/bin/sclite"]


def fail(message):
    print("score.py: " + message, file=sys.stderr)
    sys.exit(2)


def read_lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if not line.strip() or line.startswith("#"):
                    continue
                yield number, line
    except OSError as error:
        fail(str(error))


def read_set(path):
    items = []
    seen = set()
    for number, line in read_lines(path):
        fields = line.split("\t")
        if len(fields) != 3:
            fail("%s:%d: expected id<TAB>path<TAB>reference" % (path, number))
        item_id, _, ref = fields
        if item_id in seen:
            fail("%s:%d: duplicate id %s" % (path, number, item_id))
        seen.add(item_id)
        words = normalise(ref).split()
        if not words:
            fail("%s:%d: empty reference" % (path, number))
        items.append((item_id, words))
    if not items:
        fail("%s: no items" % path)
    return items


def read_hypotheses(path):
    hyps = {}
    for number, line in read_lines(path):
        item_id, _, text = line.partition("\t")
        item_id = item_id.strip()
        if item_id in hyps:
            fail("%s:%d: duplicate id %s" % (path, number, item_id))
        hyps[item_id] = normalise(text).split()
    return hyps


def align(ref, hyp):
    """Minimum number of word edits, split into (substitutions, deletions, insertions)."""
    n, m = len(ref), len(hyp)
    # cost[i][j]: edits to turn ref[:i] into hyp[:j]
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = i
    for j in range(1, m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            diagonal = cost[i - 1][j - 1] + (0 if ref[i - 1] == hyp[j - 1] else 1)
            cost[i][j] = min(diagonal, cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    s = d = ins = 0
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and cost[i][j] == cost[i - 1][j - 1] + (0 if ref[i - 1] == hyp[j - 1] else 1):
            s += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif i > 0 and cost[i][j] == cost[i - 1][j] + 1:
            d += 1
            i -= 1
        else:
            ins += 1
            j -= 1
    assert s + d + ins == cost[n][m]
    return s, d, ins


def find_sclite(explicit):
    if explicit:
        return explicit
    if os.environ.get("SCLITE"):
        return os.environ["SCLITE"]
    for candidate in SCLITE_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def run_sclite(sclite, pairs, work_dir):
    """pairs: [(ref words, hyp words)]. Returns (err %, words, C, S, D, I) from sclite."""
    ref_trn = os.path.join(work_dir, "ref.trn")
    hyp_trn = os.path.join(work_dir, "hyp.trn")
    with open(ref_trn, "w", encoding="utf-8") as r, open(hyp_trn, "w", encoding="utf-8") as h:
        for k, (ref, hyp) in enumerate(pairs, 1):
            utt = "(utt_%04d)" % k
            r.write(" ".join(ref + [utt]) + "\n")
            h.write(" ".join(hyp + [utt]) + "\n")
    command = [sclite, "-r", ref_trn, "trn", "-h", hyp_trn, "trn", "-i", "rm", "-e", "utf-8",
               "-o", "sum", "pralign", "-O", work_dir, "-n", "sclite"]
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as error:
        fail("cannot run %s: %s" % (sclite, error))
    with open(os.path.join(work_dir, "sclite.log"), "w", encoding="utf-8") as log:
        log.write(" ".join(command) + "\n" + done.stdout)
    summary = os.path.join(work_dir, "sclite.sys")
    prealign = os.path.join(work_dir, "sclite.pra")
    if done.returncode != 0 or not os.path.isfile(summary) or not os.path.isfile(prealign):
        fail("sclite failed (exit %d):\n%s" % (done.returncode, done.stdout))
    if re.search(r"^\s*Error", done.stdout, re.MULTILINE):
        fail("sclite reported errors:\n%s" % done.stdout)
    with open(summary, encoding="utf-8") as f:
        rows = [line for line in f if line.strip().startswith("| Sum/Avg")]
    if len(rows) != 1:
        fail("no Sum/Avg row in %s" % summary)
    numbers = re.findall(r"-?\d+(?:\.\d+)?", rows[0])
    # | Sum/Avg | #Snt #Wrd | Corr Sub Del Ins Err S.Err |
    snt, wrd, err = int(numbers[0]), int(numbers[1]), float(numbers[6])
    c = s = d = i = utts = 0
    with open(prealign, encoding="utf-8") as f:
        for line in f:
            match = re.match(r"Scores: \(#C #S #D #I\) (\d+) (\d+) (\d+) (\d+)", line.strip())
            if match:
                utts += 1
                c, s, d, i = (a + int(b) for a, b in zip((c, s, d, i), match.groups()))
    if snt != len(pairs) or utts != len(pairs):
        fail("sclite scored %d/%d utterances, expected %d" % (snt, utts, len(pairs)))
    return err, wrd, c, s, d, i


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set", help="reference set: id<TAB>path<TAB>reference")
    parser.add_argument("hyp", help="hypotheses: id<TAB>text")
    parser.add_argument("--details", action="store_true", help="list every utterance with errors")
    parser.add_argument("--keep", metavar="DIR", help="write the trn files and sclite output to DIR")
    parser.add_argument("--sclite", metavar="PATH", help="sclite binary (default: $SCLITE, PATH, /usr/lib/sctk/bin)")
    parser.add_argument("--no-sclite", action="store_true", help="only the built-in Levenshtein WER")
    parser.add_argument("--oh-is-zero", action="store_true",
                        help='score the digit word "oh" as "zero" in references and hypotheses')
    args = parser.parse_args()

    items = read_set(args.set)
    hyps = read_hypotheses(args.hyp)
    if args.oh_is_zero:
        zero = lambda ws: ["zero" if w == "oh" else w for w in ws]  # noqa: E731
        items = [(item_id, zero(ref)) for item_id, ref in items]
        hyps = {item_id: zero(hyp) for item_id, hyp in hyps.items()}
    set_ids = {item_id for item_id, _ in items}
    missing = [item_id for item_id, _ in items if item_id not in hyps]
    extra = sorted(set(hyps) - set_ids)

    pairs = [(ref, hyps.get(item_id, [])) for item_id, ref in items]
    words = sum(len(ref) for ref, _ in pairs)
    subs = dels = ins = 0
    wrong = []
    for (item_id, ref), (_, hyp) in zip(items, pairs):
        s, d, i = align(ref, hyp)
        subs, dels, ins = subs + s, dels + d, ins + i
        if s + d + i:
            wrong.append((item_id, s, d, i, ref, hyp))
    errors = subs + dels + ins
    own_wer = 100.0 * errors / words

    print("set        %s: %d utterances, %d reference words" % (args.set, len(items), words))
    print("hypotheses %s: %d lines; %d set items missing (scored as empty), %d unknown ids ignored"
          % (args.hyp, len(hyps), len(missing), len(extra)))
    for item_id in missing:
        print("  missing: %s" % item_id)
    for item_id in extra:
        print("  unknown: %s" % item_id)
    if args.details:
        for item_id, s, d, i, ref, hyp in wrong:
            print("  %s  S=%d D=%d I=%d\n    REF: %s\n    HYP: %s" % (item_id, s, d, i, " ".join(ref), " ".join(hyp)))
    print("utterances with errors: %d of %d" % (len(wrong), len(items)))
    print("own WER    %6.2f %%  = (%d sub + %d del + %d ins) / %d words" % (own_wer, subs, dels, ins, words))

    if args.no_sclite:
        print("RESULT wer=%.2f sclite=- words=%d sub=%d del=%d ins=%d missing=%d"
              % (own_wer, words, subs, dels, ins, len(missing)))
        return 0
    sclite = find_sclite(args.sclite)
    if not sclite:
        fail("sclite not found (apt-get install sctk; it lives in /usr/lib/sctk/bin), or pass --no-sclite")
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        work_dir = args.keep
        result = run_sclite(sclite, pairs, work_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="score-") as work_dir:
            result = run_sclite(sclite, pairs, work_dir)
    err, wrd, c, s, d, i = result
    print("sclite WER %6.1f %%  = (%d sub + %d del + %d ins) / %d words   [Err, Sum/Avg row]" % (err, s, d, i, wrd))
    difference = abs(own_wer - err)
    print("RESULT wer=%.2f sclite=%.1f words=%d sub=%d del=%d ins=%d missing=%d"
          % (own_wer, err, words, subs, dels, ins, len(missing)))
    if wrd != words or difference > TOLERANCE + 1e-9:
        print("MISMATCH: |%.2f - %.1f| = %.2f points (tolerance %.1f); words %d vs %d"
              % (own_wer, err, difference, TOLERANCE, words, wrd))
        return 1
    print("agree: |%.2f - %.1f| = %.2f <= %.1f points" % (own_wer, err, difference, TOLERANCE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
