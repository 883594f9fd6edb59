#!/usr/bin/env python3
"""Build VoicePipe's speech-recognition test sets from Allison Smith's Asterisk prompts.

    apt-get install asterisk-core-sounds-en-wav     # 1.6.1-1; also installs the transcripts
    python3 TestVectors/speech/make_sets.py

Writes (the same bytes on every run, for the same package version):

  TestVectors/speech/prompts.tsv       open-vocabulary set: 62 top-level prompts, used in place
  TestVectors/speech/domain.tsv        in-domain set: single recordings (in place) + concatenations
  TestVectors/speech/domain/*.wav      the concatenated in-domain utterances
  Sources/voicepipe/Resources/DemoCaller/{1-callback,2-number,3-day,4-goodbye}.wav,
                                       lines.tsv, CREDITS.md  (the demo caller's lines)

TSV columns: id <TAB> path <TAB> normalised reference. No header line. A path is either
absolute (a prompt used in place, /usr/share/asterisk/sounds/en/...) or relative to the
repository root (a file this script wrote). See README.md for the rules.

Standard library only (wave, struct-free byte joins, gzip, hashlib). The audio is never
resampled, scaled or dithered: prompts are copied sample for sample and joined with
digital silence (all-zero samples).
"""

import array
import gzip
import hashlib
import os
import sys
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the repository
from normalise import normalise  # noqa: E402  (shared with score.py)

REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SOUNDS = "/usr/share/asterisk/sounds/en"
TRANSCRIPTS = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
RATE = 8000

# ---------------------------------------------------------------------------------------
# Open-vocabulary set (prompts.tsv)

OPEN_COUNT = 62
OPEN_MIN_WORDS = 3
OPEN_MAX_WORDS = 40

# Prompts whose transcript is not plain read speech (besides bracketed ones).
NOT_PLAIN_SPEECH = {
    "demo-moreinfo": "reads out a web address (www.asterisk.org)",
}
NOT_PLAIN_PREFIXES = {
    "spy-": "channel-technology names, mostly spelled-out acronyms (H.323, M I S D N, N B S)",
}

# Spelling mistakes in the published transcripts, fixed in the references ("mail box" is
# written "mailbox" everywhere else in the transcript file).
TRANSCRIPT_FIXES = {
    "vm-mailboxfull": [("mail box", "mailbox")],
    "queue-periodic-announce": [("represenatives", "representatives")],
    "unidentified-no-callback": [("Un-indentified", "Unidentified"), ("witheld", "withheld")],
    "conf-adminmenu-menu8": [("umute", "unmute")],
}

# ---------------------------------------------------------------------------------------
# In-domain set (domain.tsv)

# The callback-booking playbook's vocabulary: normalised phrase -> intent. Every recording
# (any folder) whose normalised transcript is exactly one of these is used in place.
DOMAIN_VOCABULARY = {
    "telephone number": "callback",
    "call me back": "callback",
    "callback": "callback",
    "call back": "callback",
    "zero": "digit", "one": "digit", "two": "digit", "three": "digit", "four": "digit",
    "five": "digit", "six": "digit", "seven": "digit", "eight": "digit", "nine": "digit",
    "oh": "digit",
    "today": "day", "tomorrow": "day",
    "sunday": "day", "monday": "day", "tuesday": "day", "wednesday": "day",
    "thursday": "day", "friday": "day", "saturday": "day",
    "hours": "hours", "opening hours": "hours", "opening times": "hours",
    "extension": "transfer", "transfer": "transfer",
    "goodbye": "goodbye",
}

GAP_DOMAIN_S = 0.150  # silence between the pieces of a concatenated in-domain utterance
GAP_DEMO_S = 0.120    # silence between the digits of the demo caller's phone number

DIGIT_STRINGS = 20    # number of random digit strings
DIGIT_MIN, DIGIT_MAX = 4, 7
SEED = 20240611       # fixed seed of the generator below

# Multi-word in-domain utterances, as lists of prompt names (relative to SOUNDS, no .wav).
PHRASES = [
    ["digits/tomorrow", "digits/at", "digits/9"],
    ["digits/today", "digits/at", "digits/3", "digits/p-m"],
    ["digits/day-1", "digits/at", "digits/2"],
    ["digits/day-5", "digits/at", "digits/8", "digits/a-m"],
    ["digits/day-3", "digits/at", "digits/4", "digits/p-m"],
    ["hours", "digits/today"],
    ["extension", "digits/4", "digits/5", "digits/6"],
    ["pbx-transfer", "to-extension", "digits/2", "digits/0", "digits/1"],
]

# ---------------------------------------------------------------------------------------
# Demo caller (Sources/voicepipe/Resources/DemoCaller)

DEMO_DIR = os.path.join(REPO, "Sources", "voicepipe", "Resources", "DemoCaller")
DEMO_LINES = [
    ("1-callback.wav", ["telephone-number"]),
    ("2-number.wav", ["digits/5", "digits/5", "digits/5", "digits/1", "digits/2", "digits/3", "digits/4"]),
    ("3-day.wav", ["digits/tomorrow"]),
    ("4-goodbye.wav", ["goodbye"]),
]


def die(message):
    sys.exit("make_sets.py: " + message)


class SplitMix64:
    """A tiny, fully specified PRNG, so the digit strings never depend on Python's `random`."""

    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


def load_transcripts():
    if not os.path.isfile(TRANSCRIPTS):
        die("%s not found (apt-get install asterisk-core-sounds-en-wav)" % TRANSCRIPTS)
    entries = {}
    with gzip.open(TRANSCRIPTS, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith(";") or ":" not in line:
                continue
            name, _, text = line.partition(":")
            entries[name.strip()] = text.strip()
    return entries


def wav_path(name):
    return SOUNDS + "/" + name + ".wav"


def read_pcm(name):
    """The PCM bytes of a prompt, after checking it is 8 kHz mono 16-bit."""
    path = wav_path(name)
    if not os.path.isfile(path):
        die("missing prompt %s" % path)
    with wave.open(path, "rb") as w:
        fmt = (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getcomptype())
        if fmt != (RATE, 1, 2, "NONE"):
            die("%s: unexpected format %r" % (path, fmt))
        return w.readframes(w.getnframes())


def silence(seconds):
    return b"\x00\x00" * int(round(seconds * RATE))


def write_wav(path, pcm):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm)


def trim(pcm, margin_s=0.03):
    """The prompt without its leading and trailing silence (10 ms windows below -40 dBFS), keeping a 30 ms
    margin: prompts carry up to half a second of silence of their own, which would add up between joined
    pieces to a pause long enough to end a caller's turn."""
    samples = array.array("h")
    samples.frombytes(pcm)
    window = RATE // 100
    loud = [
        sum(x * x for x in samples[i:i + window]) / window > (32768 ** 2) * 1e-4
        for i in range(0, len(samples) - window + 1, window)
    ]
    if not any(loud):
        return pcm
    first = loud.index(True) * window
    last = (len(loud) - loud[::-1].index(True)) * window
    margin = int(margin_s * RATE)
    start, end = max(0, first - margin), min(len(samples), last + margin)
    return samples[start:end].tobytes()


def concatenate(names, gap_s):
    if len(names) == 1:
        return read_pcm(names[0])
    return silence(gap_s).join(trim(read_pcm(n)) for n in names)


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_tsv(path, rows):
    for row in rows:
        assert all("\t" not in c and "\n" not in c for c in row), row
        assert row[2] and row[2] == normalise(row[2]), row
    write_text(path, "".join("\t".join(row) + "\n" for row in rows))


def reference(transcripts, name):
    text = transcripts[name]
    for wrong, right in TRANSCRIPT_FIXES.get(name, []):
        assert wrong in text, (name, wrong)
        text = text.replace(wrong, right)
    return normalise(text)


def open_set(transcripts):
    """Rule: see README.md, "Open-vocabulary set"."""
    eligible = []
    seen_text, seen_audio = set(), set()
    for name in sorted(transcripts):
        if "/" in name or not os.path.isfile(wav_path(name)):
            continue
        raw = transcripts[name]
        if any(c in raw for c in "[]()"):
            continue
        if name in NOT_PLAIN_SPEECH or any(name.startswith(p) for p in NOT_PLAIN_PREFIXES):
            continue
        ref = reference(transcripts, name)
        if not OPEN_MIN_WORDS <= len(ref.split()) <= OPEN_MAX_WORDS:
            continue
        with open(wav_path(name), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if ref in seen_text or digest in seen_audio:
            continue
        seen_text.add(ref)
        seen_audio.add(digest)
        eligible.append((name, ref))
    n = len(eligible)
    if n < OPEN_COUNT:
        die("only %d eligible prompts" % n)
    # 62 evenly spaced picks: the middle element of each of 62 equal slices.
    picks = [eligible[(2 * i + 1) * n // (2 * OPEN_COUNT)] for i in range(OPEN_COUNT)]
    rows = [(name, wav_path(name), ref) for name, ref in picks]
    return rows, n


def domain_set(transcripts):
    rows = []
    vocabulary_found = {}
    # 1. Every recording whose transcript is an in-domain word or phrase, used in place.
    for name in sorted(transcripts):
        if not os.path.isfile(wav_path(name)):
            continue
        ref = normalise(transcripts[name])
        if ref in DOMAIN_VOCABULARY:
            rows.append(("rec-" + name.replace("/", "-"), wav_path(name), ref))
            vocabulary_found.setdefault(ref, []).append(name)

    # 2. Digit strings, one digit at a time; a zero is read "oh" or "zero" at random.
    rng = SplitMix64(SEED)
    generated = []
    for k in range(1, DIGIT_STRINGS + 1):
        length = DIGIT_MIN + rng.below(DIGIT_MAX - DIGIT_MIN + 1)
        names = []
        for _ in range(length):
            d = rng.below(10)
            if d == 0 and rng.below(2) == 1:
                names.append("digits/oh")
            else:
                names.append("digits/%d" % d)
        generated.append(("seq-digits-%02d" % k, names))
    used = {n for _, names in generated for n in names}
    missing = {"digits/%d" % d for d in range(10)} | {"digits/oh"}
    missing -= used
    if missing:
        die("seed %d leaves %s out of the digit strings; choose another seed" % (SEED, sorted(missing)))

    # 3. Multi-word phrases, built only from prompts that exist.
    for k, names in enumerate(PHRASES, 1):
        generated.append(("seq-phrase-%02d" % k, names))

    out_dir = os.path.join(HERE, "domain")
    os.makedirs(out_dir, exist_ok=True)
    written = set()
    for item_id, names in generated:
        file_name = item_id + ".wav"
        write_wav(os.path.join(out_dir, file_name), concatenate(names, GAP_DOMAIN_S))
        written.add(file_name)
        ref = " ".join(normalise(transcripts[n]) for n in names)
        rows.append((item_id, "TestVectors/speech/domain/" + file_name, ref))
    for stale in sorted(os.listdir(out_dir)):
        if stale.endswith(".wav") and stale not in written:
            os.remove(os.path.join(out_dir, stale))
    return rows, vocabulary_found


CREDITS = """\
# Demo caller lines: credits and licence

The four WAV files in this folder are the caller's side of VoicePipe's demo conversation
(a caller asking a callback-booking front desk for a callback). They are real human
speech: recordings by **Allison Smith** from Digium's Asterisk core sound prompts
(English, `en_US_f_Allison`), as packaged by Debian in `asterisk-core-sounds-en-wav`
1.6.1-1 (upstream `asterisk-core-sounds` 1.6.1, http://downloads.asterisk.org/pub/telephony/asterisk/).

The recordings are Copyright 2003-2010 Allison Smith, licensed under the Creative Commons
Attribution-ShareAlike 3.0 licence (CC-BY-SA-3.0,
https://creativecommons.org/licenses/by-sa/3.0/). The upstream credits say the prompts
were recorded by Allison Smith (http://www.theivrvoice.com) with financial contributions
from Digium, Inc. (http://www.digium.com). These files are adaptations of those
recordings and are distributed under the same CC-BY-SA-3.0 licence; the licence covers
only these audio files, not VoicePipe's code. The full licence text and the Debian
copyright notice are in `TestVectors/speech/LICENSE-asterisk-core-sounds.txt`.

What was changed: nothing inside any recording. Each file is either one prompt copied
sample for sample, or several prompts concatenated with digital silence (all-zero
samples) between them. No resampling, gain change, filtering or dither. Format: RIFF
WAVE, PCM 16-bit signed little-endian, mono, 8000 Hz.

| File | What the caller says | Source prompts (under `/usr/share/asterisk/sounds/en/`) |
|---|---|---|
{table}

`1-callback.wav` stands in for "I'd like a callback": the prompt set has no recording of
"call me back" or "callback", so the caller says "telephone number" (the prompt
`telephone-number.wav`, whose published transcript is "Telephone number.").

`lines.tsv` lists each file and its exact words (`file<TAB>text`, normalised as in
`TestVectors/speech/normalise.py`).

Generated by `TestVectors/speech/make_sets.py`; do not edit by hand.
"""


def demo_caller(transcripts):
    rows = []
    table = []
    for file_name, names in DEMO_LINES:
        write_wav(os.path.join(DEMO_DIR, file_name), concatenate(names, GAP_DEMO_S))
        text = " ".join(normalise(transcripts[n]) for n in names)
        rows.append((file_name, text))
        how = ", ".join("`%s.wav`" % n for n in names)
        if len(names) > 1:
            how += " (each trimmed of its own leading and trailing silence, joined with %d ms of silence)" % round(
                GAP_DEMO_S * 1000)
        table.append("| `%s` | %s | %s |" % (file_name, text, how))
    write_text(os.path.join(DEMO_DIR, "lines.tsv"), "".join("%s\t%s\n" % r for r in rows))
    write_text(os.path.join(DEMO_DIR, "CREDITS.md"), CREDITS.format(table="\n".join(table)))
    return rows


def main():
    if not os.path.isdir(SOUNDS):
        die("%s not found (apt-get install asterisk-core-sounds-en-wav)" % SOUNDS)
    transcripts = load_transcripts()

    open_rows, eligible = open_set(transcripts)
    write_tsv(os.path.join(HERE, "prompts.tsv"), open_rows)
    domain_rows, vocabulary_found = domain_set(transcripts)
    write_tsv(os.path.join(HERE, "domain.tsv"), domain_rows)
    demo_rows = demo_caller(transcripts)

    open_words = sum(len(r[2].split()) for r in open_rows)
    domain_words = sum(len(r[2].split()) for r in domain_rows)
    print("prompts.tsv: %d prompts (of %d eligible), %d words" % (len(open_rows), eligible, open_words))
    print("domain.tsv:  %d items, %d words" % (len(domain_rows), domain_words))
    print("in-domain vocabulary with a recording:")
    for phrase in sorted(vocabulary_found):
        print("  %-17s %s" % (phrase, ", ".join(vocabulary_found[phrase])))
    absent = sorted(set(DOMAIN_VOCABULARY) - set(vocabulary_found))
    print("in-domain vocabulary without a recording: %s" % ", ".join(absent))
    for file_name, text in demo_rows:
        print("DemoCaller/%s: %s" % (file_name, text))


if __name__ == "__main__":
    main()
