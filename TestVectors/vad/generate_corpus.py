#!/usr/bin/env python3
"""Build the VoicePipe telephone VAD / endpointing evaluation corpus.

Deterministic: every clip gets its own random generator seeded from
sha256("<SEED>:<clip name>"), so a clip does not depend on which other clips are
built or in which order, and the committed subset is exactly the first
replicate(s) of the --full set.

Sources (Debian packages, see README.md for versions and licences):
  asterisk-core-sounds-en-wav, asterisk-core-sounds-es-wav  real human speech
      (Allison Smith, en_US and es_MX prompts), 8 kHz mono PCM16
  asterisk-moh-opsound-wav  music on hold, 8 kHz mono PCM16
  espeak-ng                 synthetic voices, for speaker variety

Usage:
  python3 generate_corpus.py                 # committed subset -> ./clips, ./labels.json
  python3 generate_corpus.py --full          # 8x larger set -> ./full/ (git-ignored)
  python3 generate_corpus.py --out DIR --replicates N

Needs Python 3.11 (audioop), numpy and scipy.
"""

import argparse
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import wave
import warnings
from fractions import Fraction

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # deprecated in 3.11, removed in 3.13: this script needs Python 3.11 or 3.12

import numpy as np
from scipy import signal

SEED = "voicepipe-vad-v1"
SR = 8000
FRAME = 80                      # 10 ms analysis frames for labelling
LABEL_REL_DB = -40.0            # speech = frame RMS above (prompt peak frame RMS - 40 dB) ...
LABEL_ABS_DB = -60.0            # ... and above -60 dBFS
MAX_INTERNAL_PAUSE_S = 0.30     # prompts with a longer internal sub-threshold run are not used
PROMPT_MIN_S, PROMPT_MAX_S = 0.30, 3.5   # accepted active length of one prompt
PAD_S = 0.03                    # own room tone kept either side of a prompt's active part
FADE_S = 0.005                  # raised-cosine fade on the kept room tone edges
WITHIN_TURN_PAUSE = (0.15, 0.35)
BETWEEN_TURN_GAP = (1.0, 2.5)
LEAD_SILENCE = (0.3, 1.0)
TRAIL_SILENCE = (1.0, 2.0)
CLIP_TARGET = (10.0, 18.0)      # turns are added until the clip passes this; never over 20 s
CLIP_MAX = 20.0
MAX_TURN_S = 8.0
SPEECH_LEVEL_DBFS = (-30.0, -20.0)   # RMS over speech-active samples, before the channel
SNRS = (20, 10, 5, 0)
NOISE_FAMILIES = ("white", "pink", "babble", "cafe", "moh")

SOUNDS = "/usr/share/asterisk/sounds"
MOH_DIR = "/usr/share/asterisk/moh"
VOICES = {"allison-en": "en_US_f_Allison", "allison-es": "es_MX_f_Allison"}
# Prompts that are not speech, or that contain a tone (from the packages' prompt indexes).
EXCLUDE = {"ascending-2tone", "descending-2tone", "beep", "beeperr", "confbridge-join",
           "confbridge-leave", "tt-monkeys", "vm-intro"}

FULL_SCALE = 32768.0

# ----------------------------------------------------------------------------- espeak-ng

# Short caller-side phrases written for this corpus (no commas: espeak-ng pauses at them).
PHRASES_EN = [
    "I would like to check my account balance", "Yes that is right", "No thank you",
    "Can I speak to someone about my bill", "My order number is four seven two nine",
    "I have been waiting for twenty minutes", "Could you repeat that please",
    "The delivery never arrived", "I need to change my address", "It is the second one",
    "Sure go ahead", "I am calling about the appointment on Friday",
    "Please cancel my subscription", "That does not sound right to me",
    "My phone number ends in eight eight one", "Hold on a second",
    "I think I entered the wrong code", "What are your opening hours",
    "I want to report a problem with my internet", "Okay that works for me",
    "Is there a cheaper plan", "Send it to my email address", "Tomorrow morning is fine",
    "I already tried restarting it", "Can you transfer me to billing",
]
PHRASES_ES = [
    "Quiero consultar el saldo de mi cuenta", "Si es correcto", "No gracias",
    "Necesito hablar con un agente", "Mi numero de pedido es cuatro siete dos",
    "Llevo veinte minutos esperando", "Puede repetir por favor", "El paquete nunca llego",
    "Quiero cambiar mi direccion", "Manana por la manana me viene bien",
    "Por favor cancele mi suscripcion", "Eso no me parece correcto",
]
# (espeak-ng voice, words per minute, pitch 0-99, language)
ESPEAK_VOICES = [
    ("en-us+m3", 165, 40, "en"), ("en-us+f2", 170, 60, "en"), ("en-gb+m1", 155, 35, "en"),
    ("en-gb-scotland+f4", 160, 55, "en"), ("en-029+m7", 150, 45, "en"), ("en-us+f5", 175, 65, "en"),
    ("es+m2", 160, 40, "es"), ("es-419+f3", 165, 60, "es"),
]


class Espeak:
    def __init__(self):
        self.cache = {}
        self.tmp = tempfile.mkdtemp(prefix="vad-espeak-")

    def say(self, voice, wpm, pitch, text):
        key = (voice, wpm, pitch, text)
        if key not in self.cache:
            path = os.path.join(self.tmp, "%d.wav" % len(self.cache))
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch),
                            "-w", path, text], check=True, stdout=subprocess.DEVNULL)
            x, sr = read_wav(path)
            g = Fraction(SR, sr).limit_denominator(1000)
            self.cache[key] = signal.resample_poly(x, g.numerator, g.denominator)
        return self.cache[key]


# ----------------------------------------------------------------------------- helpers

def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        return x, w.getframerate()


def write_wav(path, x):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(x.astype("<i2").tobytes())


def rms(x):
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


def db(v):
    return 20 * np.log10(max(v, 1e-12))


def clip_rng(name):
    digest = hashlib.sha256(("%s:%s" % (SEED, name)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def analyse(x):
    """Active extent of a clean prompt: first..last 10 ms frame above the threshold.
    Returns (start_sample, end_sample, longest internal sub-threshold run in s) or None."""
    n = len(x) // FRAME
    if n < 3:
        return None
    e = 10 * np.log10(np.mean(np.square(x[:n * FRAME].reshape(n, FRAME)), axis=1) + 1e-9)
    e -= 20 * np.log10(FULL_SCALE)
    thr = max(e.max() + LABEL_REL_DB, LABEL_ABS_DB)
    act = np.nonzero(e > thr)[0]
    if len(act) == 0:
        return None
    a, b = int(act[0]), int(act[-1])
    gaps = np.diff(act) - 1
    longest = int(gaps.max()) if len(gaps) else 0
    return a * FRAME, (b + 1) * FRAME, longest * FRAME / SR


def telephone_band(x):
    """300-3400 Hz band-pass: 129-tap linear-phase FIR (Hamming), delay compensated."""
    h = signal.firwin(129, [300.0, 3400.0], pass_zero=False, fs=SR, window="hamming")
    return np.convolve(x, h, mode="full")[64:64 + len(x)]


def to_int16(x):
    y = np.round(x)
    clipped = int(np.count_nonzero((y > 32767) | (y < -32768)))
    return np.clip(y, -32768, 32767).astype(np.int16), clipped


def mulaw_round_trip(x16):
    return np.frombuffer(audioop.ulaw2lin(audioop.lin2ulaw(x16.tobytes(), 2), 2), dtype=np.int16)


def fade(x, n):
    n = min(n, len(x) // 2)
    if n > 0:
        r = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
        x = x.copy()
        x[:n] *= r
        x[-n:] *= r[::-1]
    return x


# ----------------------------------------------------------------------------- prompt pool

class Prompt:
    """One usable utterance: samples with PAD_S of own context, active part [a, b)."""

    def __init__(self, source, x):
        info = analyse(x)
        self.ok = False
        if info is None:
            return
        a, b, longest = info
        act = (b - a) / SR
        if longest > MAX_INTERNAL_PAUSE_S or not (PROMPT_MIN_S <= act <= PROMPT_MAX_S):
            return
        pad = int(PAD_S * SR)
        lo, hi = max(0, a - pad), min(len(x), b + pad)
        y = x[lo:hi].copy()
        fn = int(FADE_S * SR)
        # fade only the kept room tone, never the active part
        if a - lo > 0:
            k = min(fn, a - lo)
            y[:k] *= 0.5 - 0.5 * np.cos(np.pi * (np.arange(k) + 0.5) / k)
        if hi - b > 0:
            k = min(fn, hi - b)
            y[len(y) - k:] *= (0.5 - 0.5 * np.cos(np.pi * (np.arange(k) + 0.5) / k))[::-1]
        self.source, self.x, self.a, self.b = source, y, a - lo, b - lo
        self.active_rms = rms(y[self.a:self.b])
        self.ok = self.active_rms > 0


def allison_pool(voice_dir):
    root = os.path.join(SOUNDS, voice_dir)
    files = sorted(glob.glob(os.path.join(root, "**", "*.wav"), recursive=True))
    if not files:
        sys.exit("no prompts under %s: apt-get install asterisk-core-sounds-en-wav "
                 "asterisk-core-sounds-es-wav" % root)
    pool = []
    for f in files:
        rel = os.path.relpath(f, SOUNDS)
        name = os.path.splitext(os.path.relpath(f, root))[0]
        if name.startswith("silence/") or name in EXCLUDE:
            continue
        x, sr = read_wav(f)
        assert sr == SR, f
        p = Prompt(rel, x)
        if p.ok:
            pool.append(p)
    return pool


class Sources:
    def __init__(self):
        self.allison = {k: allison_pool(v) for k, v in VOICES.items()}
        self.espeak = Espeak()
        self.moh = []
        for f in sorted(glob.glob(os.path.join(MOH_DIR, "*.wav"))):
            x, sr = read_wav(f)
            assert sr == SR, f
            self.moh.append((os.path.basename(f), x))
        if not self.moh:
            sys.exit("no music on hold under %s: apt-get install asterisk-moh-opsound-wav" % MOH_DIR)

    def espeak_prompt(self, voice_cfg, text):
        voice, wpm, pitch, _ = voice_cfg
        x = self.espeak.say(voice, wpm, pitch, text)
        return Prompt("espeak-ng:%s:s%d:p%d:%s" % (voice, wpm, pitch, text), x)

    def speaker_prompts(self, speaker, rng, count, exclude=()):
        """count distinct prompts from one speaker."""
        if speaker.startswith("allison"):
            pool = [p for p in self.allison[speaker] if p.source not in exclude]
            idx = rng.choice(len(pool), size=count, replace=False)
            return [pool[i] for i in idx]
        voice_cfg = ESPEAK_VOICES[int(speaker.split("-")[1])]
        phrases = PHRASES_EN if voice_cfg[3] == "en" else PHRASES_ES
        out = []
        for i in rng.permutation(len(phrases)):
            p = self.espeak_prompt(voice_cfg, phrases[i])
            if p.ok and p.source not in exclude:
                out.append(p)
            if len(out) == count:
                break
        return out


# ----------------------------------------------------------------------------- speech clips

def build_turns(src, rng, speaker):
    """Clean speech track (float, int16 scale), segments and turns in samples, prompt list."""
    level = rng.uniform(*SPEECH_LEVEL_DBFS)
    target = rng.uniform(*CLIP_TARGET)
    t = int(rng.uniform(*LEAD_SILENCE) * SR)   # label-time cursor: where the next active part starts
    pieces, segments, turns, used = [], [], [], []
    while True:
        # draw a turn that fits (at most MAX_TURN_S, and room for the trailing silence);
        # after a failed draw, retry with two prompts, so that every clip gets >= 2 turns
        for attempt in range(20):
            k = int(rng.integers(2, 5)) if attempt == 0 else 2
            prompts = src.speaker_prompts(speaker, rng, k, exclude=used)
            if len(prompts) < 2:
                break
            k = len(prompts)
            gaps = [int(rng.uniform(*WITHIN_TURN_PAUSE) * SR) for _ in range(k - 1)]
            length = sum(p.b - p.a for p in prompts) + sum(gaps)
            if length <= MAX_TURN_S * SR and t + length + int(TRAIL_SILENCE[1] * SR) <= CLIP_MAX * SR:
                break
        else:
            prompts = []
        if len(prompts) < 2:
            if not turns:
                raise RuntimeError("no turn fits for speaker %s" % speaker)
            break
        turn_start = t
        for i, p in enumerate(prompts):
            gain = 10 ** ((level + rng.normal(0, 1.0)) / 20) * FULL_SCALE / p.active_rms
            pieces.append((t - p.a, p.x * gain))
            segments.append([t, t + (p.b - p.a)])
            used.append(p.source)
            t += p.b - p.a
            if i < k - 1:
                t += gaps[i]
        turns.append([turn_start, t])
        if t / SR >= target:
            break
        t += int(rng.uniform(*BETWEEN_TURN_GAP) * SR)
    n = turns[-1][1] + int(rng.uniform(*TRAIL_SILENCE) * SR)
    x = np.zeros(n)
    for start, y in pieces:
        x[start:start + len(y)] += y
    return x, segments, turns, used, level


def talker_stream(src, rng, n, talker, exclude):
    """One babble talker: prompts back to back with 50-300 ms gaps, n samples long."""
    out = np.zeros(n)
    kind, pitch = talker
    pos = -int(rng.uniform(0, 1.5) * SR)   # start mid-utterance
    while pos < n:
        if kind.startswith("allison"):
            pool = src.allison[kind]
            p = pool[int(rng.integers(len(pool)))]
            if p.source in exclude:
                continue
        else:
            cfg = ESPEAK_VOICES[int(kind.split("-")[1])]
            phrases = PHRASES_EN if cfg[3] == "en" else PHRASES_ES
            p = src.espeak_prompt(cfg, phrases[int(rng.integers(len(phrases)))])
            if not p.ok:
                continue
        y = p.x / p.active_rms
        if pitch != 1.0:
            f = Fraction(pitch).limit_denominator(50)
            y = signal.resample_poly(y, f.denominator, f.numerator)   # longer = lower pitch
        a, b = max(pos, 0), min(pos + len(y), n)
        if b > a:
            out[a:b] += y[a - pos:b - pos]
        pos += len(y) + int(rng.uniform(0.05, 0.3) * SR)
    return out


def babble(src, rng, n, exclude=()):
    k = int(rng.integers(4, 7))
    talkers = []
    allison_pitches = list(rng.permutation([0.84, 0.92, 1.0, 1.08, 1.16]))
    espeak_ids = list(rng.permutation(len(ESPEAK_VOICES)))
    for i in range(k):
        if rng.random() < 0.6 and allison_pitches:
            talkers.append((str(rng.choice(["allison-en", "allison-es"])), float(allison_pitches.pop())))
        else:
            talkers.append(("espeak-%d" % espeak_ids.pop(), 1.0))
    out = np.zeros(n)
    for tk in talkers:
        s = talker_stream(src, rng, n, tk, exclude)
        out += s / max(rms(s), 1e-9) * 10 ** (rng.uniform(-3, 3) / 20)
    return out, ["%s@%.2f" % t for t in talkers]


def clatter(rng, n, ref_rms):
    out = np.zeros(n)
    rate = rng.uniform(0.8, 2.0)
    t = rng.exponential(1 / rate)
    events = 0
    while t * SR < n:
        start = int(t * SR)
        if rng.random() < 0.5:   # clink: a few decaying partials
            tau = rng.uniform(0.015, 0.06)
            m = int(5 * tau * SR)
            tt = np.arange(m) / SR
            ev = sum(np.sin(2 * np.pi * rng.uniform(1200, 3800) * tt + rng.uniform(0, 6.3))
                     for _ in range(int(rng.integers(2, 5))))
            ev *= np.exp(-tt / tau)
        else:                    # clatter: 1-5 quick high-passed noise bursts
            ev = np.zeros(int(0.25 * SR))
            for _ in range(int(rng.integers(1, 6))):
                tau = rng.uniform(0.005, 0.03)
                m = int(5 * tau * SR)
                o = int(rng.integers(0, len(ev) - m))
                ev[o:o + m] += rng.standard_normal(m) * np.exp(-np.arange(m) / SR / tau)
            ev = signal.lfilter([1, -0.95], [1], ev)
        ev *= ref_rms * 10 ** (rng.uniform(6, 20) / 20) / max(np.max(np.abs(ev)), 1e-9)
        m = min(len(ev), n - start)
        out[start:start + m] += ev[:m]
        events += 1
        t += rng.exponential(1 / rate)
    return out, events


def pink(rng, n):
    w = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    w *= 1 / np.sqrt(np.maximum(f, 10.0))
    w[0] = 0
    return np.fft.irfft(w, n)


def reverb(rng, x, rt60):
    m = int(rt60 * SR)
    ir = rng.standard_normal(m) * np.exp(-6.9 * np.arange(m) / m)
    ir /= np.sqrt(np.sum(ir ** 2))
    return signal.fftconvolve(x, ir)[:len(x)]


def moh_excerpt(src, rng, n):
    name, x = src.moh[int(rng.integers(len(src.moh)))]
    off = int(rng.integers(0, len(x)))
    y = np.concatenate([x[off:], x] * (1 + n // len(x)))[:n]
    return y.astype(np.float64), "%s@%.2fs" % (name, off / SR)


def make_noise(family, src, rng, n, exclude=()):
    info = {"family": family}
    if family == "white":
        x = rng.standard_normal(n)
    elif family == "pink":
        x = pink(rng, n)
    elif family == "babble":
        x, info["talkers"] = babble(src, rng, n, exclude)
    elif family == "cafe":
        b, info["talkers"] = babble(src, rng, n, exclude)
        b = 0.5 * b + 0.5 * reverb(rng, b, rng.uniform(0.3, 0.6))
        b /= rms(b)
        c, info["clatter_events"] = clatter(rng, n, 1.0)
        fl = pink(rng, n)
        x = b + c + fl / rms(fl) * 10 ** (-12 / 20)
    elif family == "moh":
        x, info["track"] = moh_excerpt(src, rng, n)
    else:
        raise ValueError(family)
    return x, info


def speech_clip(src, name, spec):
    rng = clip_rng(name)
    speaker = spec["speaker"]
    clean, segs, turns, used, level = build_turns(src, rng, speaker)
    n = len(clean)
    active = np.zeros(n, bool)
    for a, b in segs:
        active[a:b] = True
    cond = spec["condition"]
    noise, snr = spec.get("noise"), spec.get("snr_db")
    meta = {"channel": "clean" if cond == "clean" else "telephone", "noise": noise, "snr_db": snr,
            "impairment": None}
    if cond == "clean":
        y16, _ = to_int16(clean)
    else:
        s = telephone_band(clean)
        mix = s
        if noise:
            nz, info = make_noise(noise, src, rng, n, exclude=used)
            nz = telephone_band(nz)
            g = np.sqrt(np.mean(s[active] ** 2) / (np.mean(nz[active] ** 2) * 10 ** (snr / 10)))
            mix = s + g * nz
            meta["noise_detail"] = info
        if cond == "clipping":
            # drive the line so that speech peaks clip hard at 16-bit full scale
            gain = 10 ** (rng.uniform(-9, -5) / 20) * FULL_SCALE / rms(s[active])
            mix = mix * gain
        y16, clipped = to_int16(mix)
        y16 = mulaw_round_trip(y16)
        if cond == "clipping":
            meta["impairment"] = {"type": "clipping", "clipped_fraction": round(clipped / n, 5)}
        if cond == "dc_offset":
            dc = int(rng.choice([-1, 1]) * rng.integers(1000, 4001))
            y16, _ = to_int16(y16.astype(np.float64) + dc)
            meta["impairment"] = {"type": "dc_offset", "dc": dc}
    return y16, {
        "category": "speech", "condition": cond, **meta, "speaker": speaker,
        "speech_level_dbfs": round(level, 2),
        "segments": [[a / SR, b / SR] for a, b in segs],
        "turns": [[a / SR, b / SR] for a, b in turns],
        "prompts": used,
    }


# ----------------------------------------------------------------------------- non-speech clips

DTMF = {"1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "4": (770, 1209), "5": (770, 1336),
        "6": (770, 1477), "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "*": (941, 1209),
        "0": (941, 1336), "#": (941, 1477)}


def dtmf(rng, n):
    x = np.zeros(n)
    t = int(rng.uniform(0.3, 1.0) * SR)
    digits = ""
    while True:
        seq = "".join(rng.choice(list(DTMF), size=int(rng.integers(3, 12))))
        lo_db = rng.uniform(-22, -12)
        for d in seq:
            m = int(rng.uniform(0.07, 0.2) * SR)
            if t + m >= n:
                break
            tt = np.arange(m) / SR
            fl, fh = DTMF[d]
            tone = np.sin(2 * np.pi * fl * tt) + 10 ** (rng.uniform(0, 3) / 20) * np.sin(2 * np.pi * fh * tt)
            x[t:t + m] = fade(tone, int(0.004 * SR)) * 10 ** (lo_db / 20) * FULL_SCALE * np.sqrt(2)
            digits += d
            t += m + int(rng.uniform(0.08, 0.4) * SR)
        t += int(rng.uniform(0.8, 2.0) * SR)
        if t >= n - SR:
            break
    return x + rng.standard_normal(n) * 10 ** (-70 / 20) * FULL_SCALE, {"digits": digits}


def hum(rng, n, f0):
    tt = np.arange(n) / SR
    x = np.zeros(n)
    for k in range(1, int(3400 // f0) + 1):
        a = (1.0 if k % 2 else 0.3) / k
        x += a * np.sin(2 * np.pi * f0 * k * tt + rng.uniform(0, 2 * np.pi))
    x *= 1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * tt)
    return x + rng.standard_normal(n) * 1e-3, {"f0": f0}


def comfort_noise(rng, n):
    x = signal.lfilter([1], [1, -0.9], rng.standard_normal(n))
    env = 10 ** (3 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * np.arange(n) / SR) / 20)
    return x * env, {}


def nonspeech_clip(src, name, spec):
    rng = clip_rng(name)
    cat = spec["category"]
    n = int(rng.uniform(8.0, 12.0) * SR)
    level = rng.uniform(-32, -20)
    detail = {}
    if cat in ("moh", "babble", "cafe", "white", "pink"):
        x, detail = make_noise(cat, src, rng, n)
        if cat == "white":
            level = rng.uniform(-45, -25)
        elif cat == "pink":
            level = rng.uniform(-45, -25)
    elif cat == "dtmf":
        x, detail = dtmf(rng, n)
        level = None
    elif cat == "hum":
        x, detail = hum(rng, n, spec["f0"])
        level = rng.uniform(-40, -25)
    elif cat == "comfort_noise":
        x, detail = comfort_noise(rng, n)
        level = rng.uniform(-72, -58)
    else:
        raise ValueError(cat)
    x = telephone_band(x)
    if level is not None:   # level = RMS in the telephone band
        x *= 10 ** (level / 20) * FULL_SCALE / rms(x)
    y16, _ = to_int16(x)
    y16 = mulaw_round_trip(y16)
    return y16, {
        "category": cat, "condition": cat, "channel": "telephone", "noise": None, "snr_db": None,
        "impairment": None, "level_dbfs": None if level is None else round(level, 2),
        "noise_detail": detail, "segments": [], "turns": [],
    }


# ----------------------------------------------------------------------------- the set

SPEAKER_CYCLE = ["allison-en", "allison-es", "espeak", "allison-en", "allison-es"]


def clip_specs(replicates):
    """(name, spec) for every clip. Replicate r of a condition is named ..._{r:02d}."""
    specs = []

    def speaker(i):
        s = SPEAKER_CYCLE[i % len(SPEAKER_CYCLE)]
        if s == "espeak":
            return "espeak-%d" % ((i // len(SPEAKER_CYCLE)) % len(ESPEAK_VOICES))
        return s

    speech = [("clean", None, None, 3), ("telephone", None, None, 3)]
    speech += [(fam, fam, snr, 1) for fam in NOISE_FAMILIES for snr in SNRS]
    speech += [("dc_offset", None, None, 2), ("clipping", None, None, 2)]
    for ci, (cond, noise, snr, count) in enumerate(speech):
        for r in range(count * replicates):
            name = "sp_%s%s_%02d.wav" % (cond, "" if snr is None else "_%02ddb" % snr, r)
            # the speaker depends only on the condition and the replicate number, so clip
            # ..._00 is the same whatever the number of replicates
            spec = {"condition": cond, "noise": noise, "snr_db": snr, "speaker": speaker(ci + 3 * r)}
            if cond in ("dc_offset", "clipping"):
                # background for impaired clips: none, pink 20 dB, white 10 dB or babble 10 dB
                opts = [(None, None), ("pink", 20), ("white", 10), ("babble", 10)]
                spec["noise"], spec["snr_db"] = opts[(r + (cond == "clipping")) % 4]
            specs.append((name, spec))
    nonspeech = [("moh", 3), ("babble", 2), ("cafe", 1), ("dtmf", 2), ("hum", 2), ("white", 1),
                 ("pink", 1), ("comfort_noise", 2)]
    for cat, count in nonspeech:
        for r in range(count * replicates):
            spec = {"category": cat}
            if cat == "hum":
                spec["f0"] = (50, 60)[r % 2]
            specs.append(("ns_%s_%02d.wav" % (cat, r), spec))
    return specs


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="8 replicates of every condition into ./full")
    ap.add_argument("--replicates", type=int, help="replicates per condition (default 1, --full 8)")
    ap.add_argument("--out", help="output folder (default: this folder, or ./full with --full)")
    args = ap.parse_args()
    reps = args.replicates or (8 if args.full else 1)
    out = args.out or (os.path.join(here, "full") if args.full else here)
    clip_dir = os.path.join(out, "clips")
    os.makedirs(clip_dir, exist_ok=True)

    src = Sources()
    print("prompt pool: %s, espeak-ng voices: %d, music on hold tracks: %d" % (
        ", ".join("%s %d" % (k, len(v)) for k, v in src.allison.items()), len(ESPEAK_VOICES),
        len(src.moh)))
    clips = []
    sums = []
    total = 0.0
    for name, spec in clip_specs(reps):
        if "category" in spec:
            y16, lab = nonspeech_clip(src, name, spec)
        else:
            y16, lab = speech_clip(src, name, spec)
        path = os.path.join(clip_dir, name)
        write_wav(path, y16)
        dur = len(y16) / SR
        total += dur
        entry = {"file": "clips/" + name, "duration": dur, "samples": len(y16)}
        entry.update(lab)
        entry["segments"] = [[round(a, 6), round(b, 6)] for a, b in entry["segments"]]
        entry["turns"] = [[round(a, 6), round(b, 6)] for a, b in entry["turns"]]
        clips.append(entry)
        with open(path, "rb") as f:
            sums.append("%s  clips/%s" % (hashlib.sha256(f.read()).hexdigest(), name))
    labels = {
        "version": 1,
        "sample_rate": SR,
        "seed": SEED,
        "replicates": reps,
        "label_rule": "per prompt: first..last 10 ms frame of the clean prompt whose RMS exceeds "
                      "max(peak frame RMS - 40 dB, -60 dBFS); one segment per prompt; times in s",
        "clips": clips,
    }
    with open(os.path.join(out, "labels.json"), "w") as f:
        # one line per clip: small, and diffs show which clip changed
        head = json.dumps({k: v for k, v in labels.items() if k != "clips"}, indent=1)[:-2]
        f.write(head + ',\n "clips": [\n')
        f.write(",\n".join("  " + json.dumps(c) for c in clips))
        f.write("\n ]\n}\n")
    with open(os.path.join(out, "SHA256SUMS"), "w") as f:
        f.write("\n".join(sums) + "\n")
    n_sp = sum(c["category"] == "speech" for c in clips)
    print("wrote %d clips (%d speech, %d non-speech), %.1f s of audio, to %s" % (
        len(clips), n_sp, len(clips) - n_sp, total, out))


if __name__ == "__main__":
    main()
