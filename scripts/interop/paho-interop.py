#!/usr/bin/env python3
"""Runs Eclipse Paho's MQTT interoperability suite (eclipse/paho.mqtt.testing, interoperability/)
against a broker on HOST:PORT and prints one line per test and a closing "N passed, N failed" line.

The suite is not part of labx: point --paho at a checkout's interoperability/ folder. Its scripts set
their globals in their __main__ block and parse argv themselves; this runner sets the same globals on
the imported module and runs the tests with unittest, with a timeout per test (a broker that does not
implement a behaviour can make a test wait forever).

  python3 paho-interop.py --paho DIR --port 1883 --suite 3     # client_test.py (MQTT 3.1.1)
  python3 paho-interop.py --paho DIR --port 1883 --suite 5 --skip test_flow_control2
"""
import argparse
import importlib
import signal
import sys
import unittest


class Timeout(Exception):
    pass


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paho", required=True, help="the suite's interoperability/ folder")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--suite", choices=["3", "5"], required=True)
    ap.add_argument("--skip", action="append", default=[], help="a test to leave out (repeatable)")
    ap.add_argument("--test", action="append", default=[], help="run only this test (repeatable)")
    ap.add_argument("--timeout", type=int, default=60, help="seconds a test may take")
    a = ap.parse_args()

    sys.path.insert(0, a.paho)
    mod = importlib.import_module("client_test" if a.suite == "3" else "client_test5")
    prefix = "" if a.suite == "3" else "client_test5/"
    mod.host, mod.port = a.host, a.port
    mod.topic_prefix = prefix
    mod.topics = [prefix + t for t in ("TopicA", "TopicA/B", "Topic/C", "TopicA/C", "/TopicA")]
    mod.wildtopics = [prefix + t for t in ("TopicA/+", "+/C", "#", "/#", "/+", "+/+", "TopicA/#")]
    mod.nosubscribe_topics = ("test/nosubscribe",)

    def on_alarm(_sig, _frame):
        raise Timeout(f"no result within {a.timeout} s")

    signal.signal(signal.SIGALRM, on_alarm)
    names = sorted(n for n in unittest.TestLoader().getTestCaseNames(mod.Test) if n not in a.skip and (not a.test or n in a.test))
    passed, failed = [], []
    for name in names:
        suite = unittest.TestSuite([mod.Test(name)])
        signal.alarm(a.timeout)
        why = ""
        try:
            result = unittest.TextTestRunner(stream=open("/dev/null", "w"), verbosity=0).run(suite)
            ok = result.wasSuccessful()
            problems = result.failures + result.errors
            if problems:
                why = problems[0][1].strip().splitlines()[-1]
        except Timeout as e:
            ok, why = False, str(e)
        finally:
            signal.alarm(0)
        (passed if ok else failed).append(name)
        print(f"{'PASS' if ok else 'FAIL'} {name}" + (f"  ({why[:160]})" if why else ""), flush=True)
    for name in a.skip:
        print(f"SKIP {name}", flush=True)
    print(f"{len(passed)} passed, {len(failed)} failed, {len(a.skip)} skipped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
