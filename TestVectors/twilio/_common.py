"""Helpers shared by the Twilio golden-vector generators (not imported by any Swift code)."""

import json
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PINNED_TWILIO_VERSION = "9.13.0"


def sdk_metadata():
    """Version facts recorded in every generated file, and a guard against the wrong SDK."""
    import twilio

    if twilio.__version__ != PINNED_TWILIO_VERSION and "--any-version" not in sys.argv:
        sys.exit(
            "twilio %s is installed but these vectors are pinned to %s; run "
            "`pip install twilio==%s` (or pass --any-version to compare)"
            % (twilio.__version__, PINNED_TWILIO_VERSION, PINNED_TWILIO_VERSION)
        )
    return {
        "package": "twilio (PyPI)",
        "version": twilio.__version__,
        "python": platform.python_version(),
    }


def dump_json(obj):
    """Stable, readable JSON: UTF-8 (not \\u-escaped), 2-space indent, trailing newline."""
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


def write_or_check(path, text):
    """Write `text` to `path`, or with --check compare it with the file on disk.

    Returns True when the file is (or now is) up to date.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    rel = os.path.relpath(path, HERE)
    if "--check" in sys.argv:
        try:
            with open(path, "rb") as f:
                same = f.read() == data
        except FileNotFoundError:
            same = False
        print(("ok       " if same else "DIFFERS  ") + rel)
        return same
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    print("wrote    %s (%d bytes)" % (rel, len(data)))
    return True
