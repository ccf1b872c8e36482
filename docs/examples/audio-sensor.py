#!/usr/bin/env python3
"""A microphone (ALSA through ffmpeg) for labx's `--source command` (docs/sensors.md), standard library only.

A USB microphone's or a USB webcam's sound, recorded as its own node beside the cameras: one WAV per
batch, cut on the session's grid (start + k x batch duration), each with its sample-accurate start
time and its exact sample count (a `start_epoch_s,end_epoch_s,samples` times file). ffmpeg's ALSA
input stamps each packet with the wall-clock time of its first sample (the node's chrony-disciplined
clock); the session's start trims the samples before it, so the first batch begins on its first
sample at the start. `--synthetic` records ffmpeg's sine generator instead (no sound card needed):
sample n is stamped exactly generator start + n / rate.

    labx node --sbc-id MIC1 --source command \\
      --source-command '["python3","docs/examples/audio-sensor.py","--device","hw:1,0"]'
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import wave


def say(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def input_args(args):
    if args.synthetic:
        # Sample n at RTCSTART + n / rate, released in real time, in 1 ms packets (the batch cuts
        # fall on the first packet at or after each boundary).
        graph = (
            f"sine=frequency=440:sample_rate={args.rate}:samples_per_frame={args.rate // 1000},"
            "asetpts=RTCSTART/1000000/TB+N/SR/TB,arealtime"
        )
        return ["-f", "lavfi", "-i", graph]
    return ["-f", "alsa", "-sample_rate", str(args.rate), "-channels", str(args.channels), "-i", args.device]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="default", help="ALSA device, e.g. hw:1,0 (arecord -l lists them)")
    ap.add_argument("--synthetic", action="store_true", help="ffmpeg's sine generator instead of a device")
    ap.add_argument("--rate", type=int, default=48000, help="samples per second")
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--ffmpeg", default=shutil.which("ffmpeg") or "ffmpeg")
    args = ap.parse_args()
    channels = 1 if args.synthetic else args.channels
    out_dir = os.environ["LABX_OUT_DIR"]
    zero_text = os.environ["LABX_START_EPOCH_S"]
    zero_us = int(zero_text.replace(".", ""))
    duration = os.environ.get("LABX_DURATION", "")
    first = int(os.environ.get("LABX_FIRST_SEQ", "0"))
    run = int(os.environ.get("LABX_RUN", "0"))

    # As labx's own camera pipeline: the timeline's zero is 1 us before the session's start, -ss drops
    # the samples before it (to the sample) and takes the 1 us off: times count from the start.
    cmd = [
        args.ffmpeg, "-hide_banner", "-nostats", "-loglevel", "error",
        "-itsoffset", f"-{(zero_us - 1) / 1e6:.6f}",
        *input_args(args),
        "-map", "0:a:0", "-c:a", "pcm_s16le", "-ac", str(channels),
        "-copyts", "-ss", "0.000001",
        *(["-t", duration] if duration else []),
        "-progress", "pipe:2", "-stats_period", "0.1",
        "-f", "segment", "-segment_time", os.environ["LABX_BATCH_DURATION"],
        "-segment_start_number", str(first), "-reset_timestamps", "1",
        "-segment_format", "wav", "-segment_list", "pipe:1", "-segment_list_type", "csv",
        os.path.join(out_dir, f"audio-r{run}-%09d.wav"),
    ]
    ff = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    stopping = []  # a plain flag (see imu-sensor.py): set from a signal handler

    def ask_stop(*_):
        stopping.append(True)
        try:
            ff.stdin.write("q")
            ff.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def watch_stdin():
        """labx closes our stdin to ask for a stop: ffmpeg closes its batch and exits."""
        try:
            while os.read(sys.stdin.fileno(), 4096):  # raw: a buffered read left blocked aborts the exit
                pass
        except (OSError, ValueError):
            pass
        ask_stop()

    def watch_progress():
        """ffmpeg's progress on stderr: the first written sample means recording has begun."""
        started = False
        for line in ff.stderr:
            if line.startswith("out_time_us=") and not started:
                us = line.split("=", 1)[1].strip()
                if us.isdigit() and int(us) > 0:
                    started = True
                    say({"started": round(zero_us / 1e6, 6)})
            elif "=" not in line:
                sys.stderr.write(line)

    signal.signal(signal.SIGTERM, ask_stop)
    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Thread(target=watch_progress, daemon=True).start()

    end_us = zero_us + round(float(duration) * 1e6) if duration else None
    held = None  # once the session is ending, each batch waits: the final one is said `last`
    for line in ff.stdout:  # one line per closed batch: file,start,end (s from the session's start)
        if held is not None:
            close(held, zero_us, args.rate, False)
            held = None
        ending = bool(stopping) or (end_us is not None and time.time() * 1e6 >= end_us)
        if ending:
            held = line
        else:
            close(line, zero_us, args.rate, False)
    code = ff.wait()
    if held is not None:
        close(held, zero_us, args.rate, code == 0)
    return code


def epoch_text(us):
    """Epoch us as seconds with 6 decimals, from the integer (a float has too few digits for them)."""
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


previous_end_us = None


def close(line, zero_us, rate, last):
    global previous_end_us
    name, start, _ = line.strip().split(",")
    path = os.path.join(os.environ["LABX_OUT_DIR"], os.path.basename(name))
    with wave.open(path, "rb") as w:
        samples = w.getnframes()
    start_us = zero_us + round(float(start) * 1e6)
    # The segment muxer cuts between two packets: a batch starts on the sample after the last one of
    # the batch before. ffmpeg prints the cut to the us, rounded its own way: keep the one instant.
    if previous_end_us is not None and abs(start_us - previous_end_us) <= 1:
        start_us = previous_end_us
    end_us = start_us + (2_000_000 * samples + rate) // (2 * rate)  # samples / rate in us, half up
    previous_end_us = end_us
    times = path[: -len(".wav")] + ".times.csv"
    with open(times, "w") as f:
        f.write(f"start_epoch_s,end_epoch_s,samples\n{epoch_text(start_us)},{epoch_text(end_us)},{samples}\n")
    say({"batch": os.path.basename(path), "times": os.path.basename(times), "last": last})


if __name__ == "__main__":
    sys.exit(main())
