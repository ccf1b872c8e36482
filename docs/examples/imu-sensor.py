#!/usr/bin/env python3
"""A simulated 100 Hz IMU for labx's `--source command` (docs/sensors.md), standard library only.

labx runs it once per session with the session in the environment (LABX_OUT_DIR, LABX_START_EPOCH_S,
LABX_BATCH_DURATION, ...). It samples on its own clock from the session's start, writes one CSV per
batch (cut on the session's grid: start + k x batch duration) and, beside it, the time of every
sample; it says each closed batch to labx on stdout, one JSON line. labx names, hashes, lists and
announces the batches. Asked to stop (stdin closed, or SIGTERM), it closes its batch and exits 0.

    labx node --source command --source-command '["python3","docs/examples/imu-sensor.py","--rate","100"]'

Replace `read_sample()` with your sensor's read; keep the rest.
"""
import argparse
import json
import math
import os
import random
import signal
import sys
import threading
import time

# Set from the stdin thread or the SIGTERM handler. A plain flag, not a threading.Event: a signal
# handler that takes a lock the interrupted main thread holds (Event.set inside Event.wait) deadlocks.
stopping = False


def watch_stdin():
    """labx closes our stdin to ask for a stop."""
    try:
        # The raw descriptor: a daemon thread blocked in a buffered read would make Python's exit abort.
        while os.read(sys.stdin.fileno(), 4096):
            pass
    except (OSError, ValueError):
        pass
    global stopping
    stopping = True


def on_sigterm(*_):
    global stopping
    stopping = True


def say(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def read_sample(t):
    """The sensor's reading at time t (here: a slow rotation plus noise)."""
    w = 2 * math.pi * 0.5
    return (
        math.sin(w * t) + random.gauss(0, 0.01),
        math.cos(w * t) + random.gauss(0, 0.01),
        9.81 + random.gauss(0, 0.02),
        random.gauss(0, 0.001),
        random.gauss(0, 0.001),
        w + random.gauss(0, 0.001),
    )


class Batch:
    closing = None
    def __init__(self, out_dir, index):
        self.name = f"imu-{index:09d}.csv"
        self.times_name = f"imu-{index:09d}.times.csv"
        self.data = open(os.path.join(out_dir, self.name), "w")
        self.times = open(os.path.join(out_dir, self.times_name), "w")
        self.data.write("sample,epoch_s,ax,ay,az,gx,gy,gz\n")
        self.times.write("sample,epoch_s\n")

    def add(self, n, t, values):
        stamp = f"{t:.6f}"
        self.data.write(f"{n},{stamp}," + ",".join(f"{v:.5f}" for v in values) + "\n")
        self.times.write(f"{n},{stamp}\n")

    def close(self, end, last=False):
        """Flushed, fsync'ed and said in a thread of its own: the next sample is not held up by the
        disk. Batches are said in order (each close waits for the one before)."""
        before = Batch.closing

        def finish():
            if before is not None:
                before.join()
            for f in (self.data, self.times):
                f.flush()
                os.fsync(f.fileno())
                f.close()
            say({"batch": self.name, "times": self.times_name, "end": round(end, 6), "last": last})

        Batch.closing = threading.Thread(target=finish)
        Batch.closing.start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=100.0, help="samples per second")
    args = ap.parse_args()
    out_dir = os.environ["LABX_OUT_DIR"]
    zero = float(os.environ["LABX_START_EPOCH_S"])
    batch_s = float(os.environ["LABX_BATCH_DURATION"])
    # A timed session ends at start + duration: no sample from then on.
    end_at = zero + float(os.environ["LABX_DURATION"]) if os.environ.get("LABX_DURATION") else math.inf
    signal.signal(signal.SIGTERM, on_sigterm)
    threading.Thread(target=watch_stdin, daemon=True).start()

    period = 1.0 / args.rate
    # The first sample is due at the session's start, or at the next sample time after now when the
    # program starts late (Python's start-up) or again (a restarted run joins the session's grid).
    k = max(0, math.ceil((time.time() - zero) / period))
    batch, batch_index, n = None, None, 0
    while not stopping:
        due = zero + k * period
        if due >= end_at:
            break
        delay = due - time.time()
        if delay > 0:
            time.sleep(min(delay, 0.05))  # short naps: a stop is seen within 50 ms
            continue
        t = time.time()  # the sample's time: when it was taken, on the node's (chrony-disciplined) clock
        index = int((t - zero) // batch_s)
        if batch is not None and index != batch_index:
            batch.close(zero + index * batch_s)
            batch = None
        if batch is None:
            batch, batch_index = Batch(out_dir, index), index
        batch.add(n, t, read_sample(t))
        if n == 0:
            say({"started": round(t, 6)})
        n += 1
        k += 1
    if batch is not None:
        batch.close(min(time.time(), end_at), last=True)
    if Batch.closing is not None:
        Batch.closing.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
