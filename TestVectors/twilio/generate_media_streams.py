#!/usr/bin/env python3
"""Generate media_streams/: Twilio Media Streams WebSocket messages as JSON Lines.

No SDK is involved here: the twilio Python package has no Media Streams code. The field
names, JSON types and key order follow the protocol notes in README.md ("Media Streams:
sources"), which cite Twilio's websocket-messages page. Audio payloads are real: a 440 Hz tone
at 8 kHz, encoded to G.711 µ-law with CPython's audioop.lin2ulaw, 160 bytes (20 ms) per
inbound frame.

Usage (Python 3.11 or 3.12: audioop was removed in 3.13):
    python3 TestVectors/twilio/generate_media_streams.py           # rewrite media_streams/
    python3 TestVectors/twilio/generate_media_streams.py --check   # compare with committed files
"""

import array
import base64
import hashlib
import json
import math
import os
import sys
import warnings

sys.dont_write_bytecode = True  # keep __pycache__ out of the vectors folder
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import HERE, dump_json, write_or_check  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # noqa: E402

OUT = os.path.join(HERE, "media_streams")

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
CALL_SID = "CAfedcba9876543210fedcba9876543210"
STREAM_SID = "MZ" + hashlib.sha256(b"voicepipe-bidirectional-call").hexdigest()[:32]
OTHER_STREAM_SID = "MZ" + hashlib.sha256(b"voicepipe-some-other-stream").hexdigest()[:32]

SAMPLE_RATE = 8000
TONE_HZ = 440.0
TONE_AMPLITUDE = 8000  # int16 peak, about -12 dBFS
FRAME_BYTES = 160  # 20 ms of 8 kHz µ-law


def tone_pcm16(first_sample, count, hz=TONE_HZ):
    """Int16 samples of a continuous-phase sine: round(A * sin(2*pi*hz*n/8000))."""
    return [
        int(round(TONE_AMPLITUDE * math.sin(2 * math.pi * hz * n / SAMPLE_RATE)))
        for n in range(first_sample, first_sample + count)
    ]


def ulaw(samples):
    pcm = array.array("h", samples)  # native byte order, which is what audioop expects
    return audioop.lin2ulaw(pcm.tobytes(), 2)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def compact(obj):
    """Twilio's wire form: no spaces, keys in the order given."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def load_g191_table():
    path = os.path.join(HERE, "..", "g711", "mulaw_encode.bin")
    try:
        with open(path, "rb") as f:
            table = f.read()
    except FileNotFoundError:
        return None
    return table if len(table) == 65536 else None


# --- Twilio -> app: one bidirectional <Connect><Stream> call ------------------------------

# Timestamps (ms since the stream started) for the 8 inbound frames: the first one arrives
# ~150 ms in, then about +20 ms each with a little jitter, as in real logs.
TIMESTAMPS = [155, 174, 195, 215, 234, 255, 275, 294]


def bidirectional_call():
    msgs = []  # (message dict, expectation dict)
    seq = 0

    def next_seq():
        nonlocal seq
        seq += 1
        return str(seq)

    msgs.append(({"event": "connected", "protocol": "Call", "version": "1.0.0"},
                 {"event": "connected", "sequenceNumber": None, "streamSid": None}))

    start = {
        "event": "start",
        "sequenceNumber": next_seq(),
        "start": {
            "accountSid": ACCOUNT_SID,
            "streamSid": STREAM_SID,
            "callSid": CALL_SID,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"callerId": "+14155550199", "sessionToken": "tok_7f3a9c"},
        },
        "streamSid": STREAM_SID,
    }
    msgs.append((start, {"event": "start", "sequenceNumber": start["sequenceNumber"],
                         "streamSid": STREAM_SID, "accountSid": ACCOUNT_SID,
                         "callSid": CALL_SID, "tracks": ["inbound"],
                         "mediaFormat": start["start"]["mediaFormat"],
                         "customParameters": start["start"]["customParameters"]}))

    g191 = load_g191_table()
    chunk = 0

    def media():
        nonlocal chunk
        chunk += 1
        first = (chunk - 1) * FRAME_BYTES
        samples = tone_pcm16(first, FRAME_BYTES)
        payload = ulaw(samples)
        msg = {
            "event": "media",
            "sequenceNumber": next_seq(),
            "media": {"track": "inbound", "chunk": str(chunk),
                      "timestamp": str(TIMESTAMPS[chunk - 1]), "payload": b64(payload)},
            "streamSid": STREAM_SID,
        }
        exp = {"event": "media", "sequenceNumber": msg["sequenceNumber"],
               "streamSid": STREAM_SID, "track": "inbound", "chunk": msg["media"]["chunk"],
               "timestamp": msg["media"]["timestamp"], "payload_bytes": len(payload),
               "payload_base64_chars": len(msg["media"]["payload"]),
               "payload_hex": payload.hex(),
               "tone": {"frequency_hz": TONE_HZ, "amplitude": TONE_AMPLITUDE,
                        "first_sample_index": first}}
        if g191 is not None:
            exp["g191_encoder_differs_at"] = [
                i for i, x in enumerate(samples) if g191[x & 0xFFFF] != payload[i]
            ]
        msgs.append((msg, exp))

    for _ in range(5):
        media()

    dtmf = {"event": "dtmf", "streamSid": STREAM_SID, "sequenceNumber": next_seq(),
            "dtmf": {"track": "inbound_track", "digit": "5"}}
    msgs.append((dtmf, {"event": "dtmf", "sequenceNumber": dtmf["sequenceNumber"],
                        "streamSid": STREAM_SID, "track": "inbound_track", "digit": "5"}))

    media()
    media()

    def mark(name):
        m = {"event": "mark", "sequenceNumber": next_seq(), "streamSid": STREAM_SID,
             "mark": {"name": name}}
        msgs.append((m, {"event": "mark", "sequenceNumber": m["sequenceNumber"],
                         "streamSid": STREAM_SID, "name": name}))

    mark("greeting-done")  # the greeting audio the app sent has finished playing
    media()
    mark("reply-1")  # echoed because the app sent "clear" while reply-1 was still buffered

    stop = {"event": "stop", "sequenceNumber": next_seq(),
            "stop": {"accountSid": ACCOUNT_SID, "callSid": CALL_SID}, "streamSid": STREAM_SID}
    msgs.append((stop, {"event": "stop", "sequenceNumber": stop["sequenceNumber"],
                        "streamSid": STREAM_SID, "accountSid": ACCOUNT_SID,
                        "callSid": CALL_SID}))

    lines = [compact(m) for m, _ in msgs]
    expected = [dict(e, line=i + 1) for i, (_, e) in enumerate(msgs)]
    return lines, expected


# --- app -> Twilio -----------------------------------------------------------------------


def app_messages():
    # The app's own audio: a 660 Hz tone, to tell it apart from the caller's 440 Hz.
    def frame(first, count):
        return ulaw(tone_pcm16(first, count, hz=660.0))

    out = []
    exp = []

    def media(payload, note):
        out.append({"event": "media", "streamSid": STREAM_SID, "media": {"payload": b64(payload)}})
        exp.append({"event": "media", "streamSid": STREAM_SID, "payload_bytes": len(payload),
                    "payload_hex": payload.hex(), "note": note})

    def mark(name, note):
        out.append({"event": "mark", "streamSid": STREAM_SID, "mark": {"name": name}})
        exp.append({"event": "mark", "streamSid": STREAM_SID, "name": name, "note": note})

    media(frame(0, 160), "20 ms of greeting audio")
    media(frame(160, 320), "40 ms in one message: outbound audio can be any size")
    mark("greeting-done", "Twilio echoes this mark when the audio above has played")
    media(frame(480, 160), "start of reply-1")
    mark("reply-1", "echoed at once by the clear below (the audio never finished)")
    out.append({"event": "clear", "streamSid": STREAM_SID})
    exp.append({"event": "clear", "streamSid": STREAM_SID,
                "note": "caller barged in: drop buffered audio, pending marks are echoed"})

    lines = [compact(m) for m in out]
    expected = [dict(e, line=i + 1) for i, e in enumerate(exp)]
    return lines, expected


# --- malformed frames --------------------------------------------------------------------

OVERSIZED_FILE = "malformed_oversized_media.json"
OVERSIZED_PAYLOAD_BYTES = 1 << 20  # 1 MiB of µ-law before base64


def malformed(first_frame_payload):
    connected = compact({"event": "connected", "protocol": "Call", "version": "1.0.0"})
    start = compact({
        "event": "start", "sequenceNumber": "1",
        "start": {"accountSid": ACCOUNT_SID, "streamSid": STREAM_SID, "callSid": CALL_SID,
                  "tracks": ["inbound"],
                  "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000,
                                  "channels": 1},
                  "customParameters": {}},
        "streamSid": STREAM_SID})

    def media(payload=first_frame_payload, seq="2", sid=STREAM_SID, **overrides):
        body = {"track": "inbound", "chunk": "1", "timestamp": "155", "payload": payload}
        body.update(overrides.pop("media_fields", {}))
        for k in overrides.pop("drop_media_fields", []):
            del body[k]
        msg = {"event": "media", "sequenceNumber": seq, "media": body, "streamSid": sid}
        msg.update(overrides)
        return compact(msg)

    cases = [
        ("invalid_json_truncated", "Frame cut off mid-object.", "twilio_to_app",
         [connected, start, media()[:60]], "invalid_json"),
        ("invalid_json_plain_text", "Not JSON at all.", "twilio_to_app",
         [connected, start, "hello"], "invalid_json"),
        ("invalid_json_single_quotes", "Python-style quotes are not JSON.", "twilio_to_app",
         [connected, start, "{'event':'media','streamSid':'%s'}" % STREAM_SID], "invalid_json"),
        ("invalid_json_trailing_comma", "Trailing comma inside the object.", "twilio_to_app",
         [connected, start, media()[:-1] + ",}"], "invalid_json"),
        ("invalid_json_empty_frame", "Empty text frame.", "twilio_to_app",
         [connected, start, ""], "invalid_json"),
        ("not_an_object", "Valid JSON, but an array instead of an object.", "twilio_to_app",
         [connected, start, compact(["media", STREAM_SID])], "not_an_object"),
        ("missing_event", "Object without an \"event\" field.", "twilio_to_app",
         [connected, start,
          compact({"sequenceNumber": "2", "media": {"track": "inbound", "chunk": "1",
                                                     "timestamp": "155",
                                                     "payload": first_frame_payload},
                   "streamSid": STREAM_SID})], "missing_field"),
        ("event_not_a_string", "\"event\" is a number.", "twilio_to_app",
         [connected, start, compact({"event": 3, "sequenceNumber": "2",
                                     "streamSid": STREAM_SID})], "wrong_type"),
        ("unknown_event", "An event name that is not in the protocol. Twilio may add events; "
         "a reader should report it (or skip it) without failing the stream.", "twilio_to_app",
         [connected, start, compact({"event": "transcription", "sequenceNumber": "2",
                                     "streamSid": STREAM_SID,
                                     "transcription": {"text": "hello"}})], "unknown_event"),
        ("media_missing_payload", "media object without \"payload\".", "twilio_to_app",
         [connected, start, media(drop_media_fields=["payload"])], "missing_field"),
        ("media_sequence_number_as_json_number", "sequenceNumber sent as a JSON number; "
         "Twilio always sends a string.", "twilio_to_app",
         [connected, start, media(seq=2)], "wrong_type"),
        ("media_chunk_as_json_number", "media.chunk sent as a JSON number; Twilio always "
         "sends a string.", "twilio_to_app",
         [connected, start, media(media_fields={"chunk": 1})], "wrong_type"),
        ("media_bad_base64_characters", "Payload with characters outside the base64 "
         "alphabet.", "twilio_to_app",
         [connected, start, media(payload="@@not*base64!!" + first_frame_payload[14:])],
         "invalid_base64"),
        ("media_bad_base64_length", "Payload whose length is not a multiple of 4 (padding "
         "missing).", "twilio_to_app",
         [connected, start, media(payload=first_frame_payload.rstrip("=")[:-1])],
         "invalid_base64"),
        ("media_base64_urlsafe_alphabet", "Payload in the URL-safe alphabet (- and _). Twilio "
         "uses the standard alphabet (+ and /).", "twilio_to_app",
         [connected, start,
          media(payload=first_frame_payload.replace("+", "-").replace("/", "_"))],
         "invalid_base64"),
        ("media_before_start", "A media message arrives right after connected, before any "
         "start: there is no stream yet.", "twilio_to_app",
         [connected, media(seq="1")], "media_before_start"),
        ("media_stream_sid_mismatch", "A media message whose streamSid differs from the one "
         "in start.", "twilio_to_app",
         [connected, start, media(sid=OTHER_STREAM_SID)], "stream_sid_mismatch"),
        ("media_oversized_payload", "A media message with a 1 MiB payload (1,398,104 base64 "
         "characters). Twilio sends ~160-byte frames; a reader should refuse payloads over "
         "its own limit. The frame is in " + OVERSIZED_FILE + ".", "twilio_to_app",
         None, "payload_too_large"),
        ("app_media_extra_field", "An outgoing media message with a \"track\" field: Twilio "
         "rejects extra fields (warning 31951).", "app_to_twilio",
         [compact({"event": "media", "streamSid": STREAM_SID,
                   "media": {"track": "outbound", "payload": first_frame_payload}})],
         "extra_field"),
        ("app_clear_missing_stream_sid", "An outgoing clear without streamSid (warning "
         "31951).", "app_to_twilio", [compact({"event": "clear"})], "missing_field"),
    ]
    rows = []
    for name, desc, direction, frames, err in cases:
        row = {"name": name, "description": desc, "direction": direction}
        if frames is None:
            row["frames"] = [connected, start]
            row["then_frame_file"] = OVERSIZED_FILE
        else:
            row["frames"] = frames
        row["bad_frame_index"] = (len(frames) - 1) if frames is not None else 2
        row["expected_error"] = err
        rows.append(row)
    return rows


def oversized_frame(first_frame):
    reps = OVERSIZED_PAYLOAD_BYTES // len(first_frame) + 1
    payload = (first_frame * reps)[:OVERSIZED_PAYLOAD_BYTES]
    return compact({
        "event": "media", "sequenceNumber": "2",
        "media": {"track": "inbound", "chunk": "1", "timestamp": "155", "payload": b64(payload)},
        "streamSid": STREAM_SID,
    })


def main():
    twilio_lines, twilio_expected = bidirectional_call()
    app_lines, app_expected = app_messages()

    # Sanity checks on what we are about to write.
    for line in twilio_lines + app_lines:
        assert json.loads(line)
    media_lines = [json.loads(l) for l in twilio_lines if '"event":"media"' in l]
    for m in media_lines:
        assert len(base64.b64decode(m["media"]["payload"], validate=True)) == FRAME_BYTES
        assert len(m["media"]["payload"]) == 216
        for key in ("chunk", "timestamp"):
            assert isinstance(m["media"][key], str)
        assert isinstance(m["sequenceNumber"], str)

    first_frame = ulaw(tone_pcm16(0, FRAME_BYTES))
    rows = malformed(b64(first_frame))
    big = oversized_frame(first_frame)
    assert len(json.loads(big)["media"]["payload"]) == 1398104

    expected_doc = {
        "about": "What a reader should get from each line of bidirectional_call.twilio.jsonl "
        "and bidirectional_call.app.jsonl (line numbers are 1-based). Payloads are decoded "
        "to bytes (payload_hex). Generated by generate_media_streams.py.",
        "ids": {"accountSid": ACCOUNT_SID, "callSid": CALL_SID, "streamSid": STREAM_SID},
        "audio": {"encoding": "G.711 mu-law, CPython audioop.lin2ulaw",
                  "sample_rate": SAMPLE_RATE,
                  "inbound_tone": "round(8000 * sin(2*pi*440*n/8000)), n = first_sample_index "
                  "+ 0..159",
                  "app_tone": "round(8000 * sin(2*pi*660*n/8000)), continuous across the "
                  "app's media messages",
                  "g191_encoder_differs_at": "indices in a frame where the ITU-T G.191 encoder "
                  "(TestVectors/g711/mulaw_encode.bin) gives a different code from audioop "
                  "for the same sample; decoding is identical"},
        "twilio_to_app": twilio_expected,
        "app_to_twilio": app_expected,
    }

    ok = True
    ok &= write_or_check(os.path.join(OUT, "bidirectional_call.twilio.jsonl"),
                         "\n".join(twilio_lines) + "\n")
    ok &= write_or_check(os.path.join(OUT, "bidirectional_call.app.jsonl"),
                         "\n".join(app_lines) + "\n")
    ok &= write_or_check(os.path.join(OUT, "bidirectional_call.expected.json"),
                         dump_json(expected_doc))
    ok &= write_or_check(os.path.join(OUT, "malformed.jsonl"),
                         "\n".join(compact(r) for r in rows) + "\n")
    ok &= write_or_check(os.path.join(OUT, OVERSIZED_FILE), big)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
