"""Text normalisation shared by make_sets.py (references) and score.py (hypotheses).

normalise(text) returns the words that are scored, joined by single spaces:

1. Unicode NFKC, then lower case.
2. Typographic apostrophes (U+2018, U+2019, U+02BC) become "'".
3. A "." or "," between two letters or digits is deleted, so "A.M." -> "am." and
   "1,000" -> "1000" (the trailing "." is removed by step 6).
4. Every digit becomes its own word: "1" -> "one", "0" -> "zero", so "555-0123"
   -> "five five five zero one two three" and "9am" -> "nine am". Numbers are
   read digit by digit; "10" is "one zero", never "ten".
5. An apostrophe is kept only between two letters ("didn't", "party's",
   "o'clock"); any other apostrophe is punctuation.
6. Everything that is not a letter, a digit or a kept apostrophe (hyphens,
   punctuation, symbols, underscores) becomes a space, so "Call-Forward" ->
   "call forward".
7. Runs of white space collapse to one space; no leading or trailing space.

The function is idempotent: normalise(normalise(t)) == normalise(t).
Standard library only.
"""

import re
import unicodedata

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

_APOSTROPHES = {"\u2018": "'", "\u2019": "'", "\u02bc": "'"}
_INNER_DOT_OR_COMMA = re.compile(r"(?<=[^\W_])[.,](?=[^\W_])")
_DIGIT = re.compile(r"[0-9]")
_INNER_APOSTROPHE = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])")


def normalise(text):
    """Return the normalised form of `text` (a str): lower-case words separated by one space."""
    t = unicodedata.normalize("NFKC", text).lower()
    for typographic, plain in _APOSTROPHES.items():
        t = t.replace(typographic, plain)
    t = _INNER_DOT_OR_COMMA.sub("", t)
    t = _DIGIT.sub(lambda m: " " + DIGIT_WORDS[int(m.group(0))] + " ", t)
    # Protect the apostrophes to keep, then drop every other non-word character.
    t = _INNER_APOSTROPHE.sub("\x00", t)
    t = "".join(c if (c.isalnum() or c == "\x00") else " " for c in t)
    t = t.replace("\x00", "'")
    return " ".join(t.split())


def words(text):
    """The list of scored words of `text` (normalised first)."""
    return normalise(text).split()


if __name__ == "__main__":
    # Self-check, run with: python3 normalise.py
    cases = [
        ("Goodbye!", "goodbye"),
        ("Call-Forward on No Answer.", "call forward on no answer"),
        ("Please press 1 to mute, 0 for the operator.", "please press one to mute zero for the operator"),
        ("I didn\u2019t know your party's extension.", "i didn't know your party's extension"),
        ("'don't call' \"menu\"", "don't call menu"),
        ("9am, 4 P.M.", "nine am four pm"),
        ("555-0123", "five five five zero one two three"),
        ("At the sound of the tone, the time will be exactly...", "at the sound of the tone the time will be exactly"),
        ("nine o'clock", "nine o'clock"),
        ("H.323", "h three two three"),
        ("  ", ""),
    ]
    for given, want in cases:
        got = normalise(given)
        assert got == want, (given, got, want)
        assert normalise(got) == got, given
    print("normalise.py: %d cases ok" % len(cases))
