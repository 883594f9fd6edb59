#!/usr/bin/env python3
"""Score voice activity decisions against the VoicePipe VAD corpus labels.

  python3 score.py labels.json detections.json [more.json ...] [--json out.json] [--markdown]

A detections file (one detector) is JSON:

  {"detector": "name",                       # optional, default: the file name
   "clips": {
     "clips/sp_clean_00.wav": {"segments": [[0.31, 2.48], [2.77, 4.97]]},
     "sp_clean_01.wav":       {"segments": [{"start": 0.31, "end": 2.48}]},
     "sp_clean_02.wav":       {"frame_ms": 20, "frames": [0, 0, 1, 1, 1, 0]},
     ...}}

A clip is named by its "file" value in labels.json or by its base name. A clip's entry is
either speech segments in seconds (pairs, or objects with start/end), or per-frame decisions
("frames": 0/1 or booleans, each covering frame_ms milliseconds from t = 0; frames past the
end of the list count as non-speech). "clips" may also be a list of objects that carry "file".
Every clip in labels.json must be present (use --allow-missing to score missing ones as
all-non-speech).

A detections argument may also be a folder holding one <clip base name>.json per clip, each
with that clip's entry, e.g. the output of `voicepipe vad clips/sp_clean_00.wav --json` saved
as sp_clean_00.json; the detector is then named after the folder.

Everything is scored on a 10 ms grid: frame i covers [10i, 10i + 10) ms and is speech when
its centre, 10i + 5 ms, lies in a segment [start, end) (for frame decisions: in a frame whose
decision is 1). The reference endpointer and every metric are defined in README.md.
"""

import argparse
import json
import os
import sys

import numpy as np

FRAME_S = 0.010
EP_START_FRAMES = 15     # 150 ms of consecutive speech frames opens a turn
EP_END_FRAMES = 50       # 500 ms of consecutive non-speech frames ends it
SPEECH_LIKE = ("babble", "cafe")
NOISE_FAMILIES = ("white", "pink", "babble", "cafe", "moh")
CONDITION_ORDER = ("clean", "telephone") + NOISE_FAMILIES + ("dc_offset", "clipping")
NONSPEECH_ORDER = ("moh", "dtmf", "hum", "white", "pink", "comfort_noise", "babble", "cafe")


# ----------------------------------------------------------------------------- input

def n_frames(clip, sample_rate):
    """Whole 10 ms frames in the clip (a trailing partial frame is not scored)."""
    if "samples" in clip:
        return int(clip["samples"]) * 100 // int(sample_rate)
    return int(clip["duration"] / FRAME_S + 1e-9)


def segments_to_frames(segments, n):
    centres = (np.arange(n) + 0.5) * FRAME_S
    out = np.zeros(n, bool)
    for s, e in segments:
        out |= (centres >= s) & (centres < e)
    return out


def parse_segments(raw):
    segs = []
    for item in raw:
        if isinstance(item, dict):
            segs.append((float(item["start"]), float(item["end"])))
        else:
            segs.append((float(item[0]), float(item[1])))
    return segs


def entry_to_frames(entry, n):
    if isinstance(entry, list):
        entry = {"segments": entry}
    if "segments" in entry:
        return segments_to_frames(parse_segments(entry["segments"]), n)
    frames = entry.get("frames", entry.get("decisions"))
    if frames is None:
        raise ValueError("clip entry has neither 'segments' nor 'frames'")
    step = float(entry.get("frame_ms", 10)) / 1000.0
    dec = np.asarray([bool(v) for v in frames], bool)
    idx = np.floor((np.arange(n) + 0.5) * FRAME_S / step + 1e-9).astype(int)
    out = np.zeros(n, bool)
    ok = idx < len(dec)
    out[ok] = dec[idx[ok]]
    return out


def load_detections(path):
    if os.path.isdir(path):
        # one file per clip, <clip base name>.json, each holding that clip's entry: the shape
        # `voicepipe vad CLIP --json` prints ({"segments": [{"start": s, "end": e}, ...]})
        clips = {}
        for name in sorted(os.listdir(path)):
            if name.endswith(".json"):
                with open(os.path.join(path, name)) as f:
                    clips[name[:-5] + ".wav"] = json.load(f)
        return os.path.basename(os.path.normpath(path)), clips
    with open(path) as f:
        d = json.load(f)
    clips = d["clips"] if isinstance(d, dict) and "clips" in d else d
    if isinstance(clips, list):
        clips = {c["file"]: c for c in clips}
    name = d.get("detector") if isinstance(d, dict) else None
    return name or os.path.splitext(os.path.basename(path))[0], clips


def lookup(dets, clip):
    for key in (clip["file"], os.path.basename(clip["file"])):
        if key in dets:
            return dets[key]
    return None


# ----------------------------------------------------------------------------- endpointer

def endpointer(dec):
    """Reference endpointer over 10 ms decisions. Returns a list of detected turns
    (start_s, start_event_s, end_event_s or None): start_s is the first frame of the opening
    150 ms run, start_event_s when the turn was declared (end of that run), end_event_s when
    the end of turn was declared (end of the 50th consecutive non-speech frame)."""
    turns = []
    in_turn = False
    run = 0
    start = start_ev = 0.0
    for i, v in enumerate(dec):
        if not in_turn:
            run = run + 1 if v else 0
            if run >= EP_START_FRAMES:
                in_turn, run = True, 0
                start = (i + 1 - EP_START_FRAMES) * FRAME_S
                start_ev = (i + 1) * FRAME_S
        else:
            run = run + 1 if not v else 0
            if run >= EP_END_FRAMES:
                in_turn, run = False, 0
                turns.append((start, start_ev, (i + 1) * FRAME_S))
    if in_turn:
        turns.append((start, start_ev, None))
    return turns


def turn_metrics(ref_turns, det_turns, duration):
    """Per labelled turn: missed, premature splits, EOT delay (or None when missing)."""
    out = []
    spurious = 0
    for d_start, _, d_end in det_turns:
        d_stop = duration + 1e9 if d_end is None else d_end
        if not any(d_start < te and d_stop > ts for ts, te in ref_turns):
            spurious += 1
    for k, (ts, te) in enumerate(ref_turns):
        nxt = ref_turns[k + 1][0] if k + 1 < len(ref_turns) else float("inf")
        overlapping = False
        premature = 0
        delay = None
        for d_start, _, d_end in det_turns:
            d_stop = float("inf") if d_end is None else d_end
            if d_start < te and d_stop > ts:
                overlapping = True
            if d_end is not None and ts < d_end < te:
                premature += 1
            if d_start < te <= d_stop and d_end is not None and d_end < nxt:
                delay = d_end - te
        out.append({"missed": not overlapping, "premature": premature, "delay": delay})
    return out, spurious


# ----------------------------------------------------------------------------- scoring

class Acc:
    def __init__(self):
        self.tp = self.fp = self.fn = self.tn = 0
        self.clips = 0
        self.seconds = 0.0
        self.turns = self.missed = self.premature = self.turns_split = self.eot_missing = 0
        self.spurious = 0
        self.delays = []

    def add(self, ref, hyp, tm=None, spurious=0):
        self.tp += int(np.sum(ref & hyp))
        self.fp += int(np.sum(~ref & hyp))
        self.fn += int(np.sum(ref & ~hyp))
        self.tn += int(np.sum(~ref & ~hyp))
        self.clips += 1
        self.seconds += len(ref) * FRAME_S
        self.spurious += spurious
        for t in tm or []:
            self.turns += 1
            self.missed += t["missed"]
            self.premature += t["premature"]
            self.turns_split += t["premature"] > 0
            if t["delay"] is None:
                self.eot_missing += not t["missed"]
            else:
                self.delays.append(t["delay"])

    def result(self):
        def ratio(a, b):
            return round(a / b, 4) if b else None
        p, r = ratio(self.tp, self.tp + self.fp), ratio(self.tp, self.tp + self.fn)
        f1 = ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)
        res = {"clips": self.clips, "seconds": round(self.seconds, 2),
               "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
               "precision": p, "recall": r, "f1": f1,
               "false_alarm_rate": ratio(self.fp, self.fp + self.tn),
               "spurious_turns": self.spurious,
               "spurious_turns_per_min": round(self.spurious / self.seconds * 60, 3) if self.seconds else None}
        if self.turns:
            d = np.asarray(self.delays)
            res.update({
                "turns": self.turns, "missed_turns": self.missed,
                "premature_splits": self.premature, "turns_with_split": self.turns_split,
                "eot_missing": self.eot_missing, "eot_detected": len(d),
                "eot_delay_median": round(float(np.median(d)), 3) if len(d) else None,
                "eot_delay_p90": round(float(np.percentile(d, 90)), 3) if len(d) else None,
                "eot_delay_mean": round(float(np.mean(d)), 3) if len(d) else None,
            })
        return res


def score(labels, dets, allow_missing=False):
    groups = {}

    def acc(*key):
        return groups.setdefault(key, Acc())

    per_clip = {}
    for clip in labels["clips"]:
        n = n_frames(clip, labels.get("sample_rate", 8000))
        ref = segments_to_frames(clip["segments"], n)
        entry = lookup(dets, clip)
        if entry is None:
            if not allow_missing:
                raise SystemExit("detections have no entry for %s" % clip["file"])
            hyp = np.zeros(n, bool)
        else:
            hyp = entry_to_frames(entry, n)
        det_turns = endpointer(hyp)
        ref_turns = [tuple(t) for t in clip["turns"]]
        tm, spurious = turn_metrics(ref_turns, det_turns, n * FRAME_S)
        if clip["category"] == "speech":
            cond = clip["condition"]
            for key in (("speech", "all"), ("condition", cond)):
                acc(*key).add(ref, hyp, tm, spurious)
            if cond in NOISE_FAMILIES:
                acc("snr", str(clip["snr_db"])).add(ref, hyp)
                acc("family_snr", cond, str(clip["snr_db"])).add(ref, hyp)
            elif cond in ("clean", "telephone"):
                acc("snr", "none").add(ref, hyp)
        else:
            cat = clip["category"]
            acc("nonspeech", cat).add(ref, hyp, spurious=spurious)
            acc("nonspeech_all", "speech_like" if cat in SPEECH_LIKE else "non_speech_like").add(
                ref, hyp, spurious=spurious)
        r = Acc()
        r.add(ref, hyp, tm, spurious)
        per_clip[clip["file"]] = {k: v for k, v in r.result().items()
                                  if k in ("precision", "recall", "f1", "false_alarm_rate", "turns",
                                           "missed_turns", "premature_splits", "eot_delay_median",
                                           "spurious_turns")}

    def table(kind, order=None):
        keys = [k[1] for k in groups if k[0] == kind]
        if order:
            keys = [k for k in order if k in keys] + sorted(k for k in keys if k not in order)
        return {k: groups[(kind, k)].result() for k in keys}

    fam_snr = {}
    for key, a in groups.items():
        if key[0] == "family_snr":
            fam_snr.setdefault(key[1], {})[key[2]] = a.result()["f1"]
    return {
        "speech": groups[("speech", "all")].result() if ("speech", "all") in groups else None,
        "by_condition": table("condition", CONDITION_ORDER),
        "by_snr": table("snr", ("none", "20", "10", "5", "0")),
        "f1_by_family_snr": {f: fam_snr[f] for f in NOISE_FAMILIES if f in fam_snr},
        "nonspeech": table("nonspeech", NONSPEECH_ORDER),
        "nonspeech_summary": table("nonspeech_all", ("non_speech_like", "speech_like")),
        "per_clip": per_clip,
    }


# ----------------------------------------------------------------------------- output

def fmt(v, pct=False, digits=3):
    if v is None:
        return "-"
    return ("%.1f%%" % (100 * v)) if pct else ("%.*f" % (digits, v))


def print_report(name, res, out=sys.stdout):
    w = out.write
    w("\n== %s ==\n" % name)
    s = res["speech"]
    w("speech clips: %d, %.0f s  precision %s  recall %s  F1 %s  false alarms in gaps %s\n" % (
        s["clips"], s["seconds"], fmt(s["precision"]), fmt(s["recall"]), fmt(s["f1"]),
        fmt(s["false_alarm_rate"], True)))
    w("%-12s %6s %7s %7s %7s %8s | %5s %6s %6s %6s %7s %7s %6s\n" % (
        "condition", "clips", "prec", "recall", "F1", "gap FA", "turns", "missed", "splits",
        "no-EOT", "EOTmed", "EOTp90", "spur."))
    rows = list(res["by_condition"].items()) + [("ALL", s)]
    for cond, r in rows:
        w("%-12s %6d %7s %7s %7s %8s | %5s %6s %6s %6s %7s %7s %6s\n" % (
            cond, r["clips"], fmt(r["precision"]), fmt(r["recall"]), fmt(r["f1"]),
            fmt(r["false_alarm_rate"], True), r.get("turns", "-"), r.get("missed_turns", "-"),
            r.get("premature_splits", "-"), r.get("eot_missing", "-"),
            fmt(r.get("eot_delay_median"), digits=2), fmt(r.get("eot_delay_p90"), digits=2),
            r["spurious_turns"]))
    w("F1 by SNR:      " + "  ".join(("no noise %s" if k == "none" else k + " dB %s") % fmt(v["f1"])
                                     for k, v in res["by_snr"].items()) + "\n")
    snrs = ("20", "10", "5", "0")
    w("F1 family x SNR %s\n" % "".join("%8s" % (k + " dB") for k in snrs))
    for fam, row in res["f1_by_family_snr"].items():
        w("  %-13s %s\n" % (fam, "".join("%8s" % fmt(row.get(k)) for k in snrs)))
    w("non-speech clips: false-alarm rate (frames flagged as speech), spurious turns per minute\n")
    for cat, r in list(res["nonspeech"].items()) + list(res["nonspeech_summary"].items()):
        w("  %-16s %3d clips %6.0f s  FA %7s  turns/min %6s\n" % (
            cat, r["clips"], r["seconds"], fmt(r["false_alarm_rate"], True),
            fmt(r["spurious_turns_per_min"], digits=1)))


def markdown_table(results):
    """One row per detector: the summary used in README.md."""
    fams = ["clean", "telephone"] + list(NOISE_FAMILIES) + ["dc_offset", "clipping"]
    cats = list(NONSPEECH_ORDER)
    lines = []
    head = ["detector", "F1 all", "P", "R"] + ["F1 %s" % f for f in fams]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for name, res in results.items():
        s = res["speech"]
        row = [name, fmt(s["f1"]), fmt(s["precision"]), fmt(s["recall"])]
        row += [fmt(res["by_condition"].get(f, {}).get("f1")) for f in fams]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    head = ["detector"] + ["FA %s" % c for c in cats] + ["FA non-speech-like", "FA babble+cafe"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for name, res in results.items():
        ns, summ = res["nonspeech"], res["nonspeech_summary"]
        row = [name] + [fmt(ns.get(c, {}).get("false_alarm_rate"), True) for c in cats]
        row += [fmt(summ.get("non_speech_like", {}).get("false_alarm_rate"), True),
                fmt(summ.get("speech_like", {}).get("false_alarm_rate"), True)]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    head = ["detector", "turns", "missed", "premature splits (turns split)", "no EOT",
            "EOT delay median (s)", "EOT delay p90 (s)", "spurious turns/min (non-speech-like)"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for name, res in results.items():
        s = res["speech"]
        row = [name, str(s["turns"]), str(s["missed_turns"]),
               "%d (%d)" % (s["premature_splits"], s["turns_with_split"]), str(s["eot_missing"]),
               fmt(s["eot_delay_median"], digits=2), fmt(s["eot_delay_p90"], digits=2),
               fmt(res["nonspeech_summary"].get("non_speech_like", {}).get("spurious_turns_per_min"),
                   digits=1)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description="Score VAD output against labels.json")
    ap.add_argument("labels")
    ap.add_argument("detections", nargs="+")
    ap.add_argument("--json", help="write all results to this file")
    ap.add_argument("--markdown", action="store_true", help="also print the README summary tables")
    ap.add_argument("--allow-missing", action="store_true")
    ap.add_argument("--per-clip", action="store_true", help="keep per-clip results in --json")
    args = ap.parse_args()
    with open(args.labels) as f:
        labels = json.load(f)
    results = {}
    for path in args.detections:
        name, dets = load_detections(path)
        res = score(labels, dets, args.allow_missing)
        if not args.per_clip:
            res.pop("per_clip")
        results[name] = res
        print_report(name, res)
    if args.markdown:
        print()
        print(markdown_table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"detectors": results}, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
