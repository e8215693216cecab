"""Plain stress test of __slots__ in the style the lock-free slot proposal validated
with: writer threads and reader threads hammering the same slots of one object.
The baseline that scripts/bench-detect compares the fuzzers with.

usage: python3.13t scripts/stress_slots.py [SECONDS]
Exits 1 if a reader sees a dead or foreign value; a crash of the interpreter is the
other way it finds something.
"""
import sys
import time

from stress_common import Value, run

WRITERS, READERS = 4, 2


class Obj:
    __slots__ = ("x", "y")


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    obj = Obj()
    obj.x = obj.y = Value()
    deadline = time.monotonic() + seconds
    bad = []

    def writer():
        while time.monotonic() < deadline and not bad:
            for _ in range(1000):
                obj.x = Value()
                obj.y = Value()
                try:
                    del obj.x
                except AttributeError:  # another writer deleted it first
                    pass
                obj.x = Value()

    def reader():
        while time.monotonic() < deadline and not bad:
            for _ in range(1000):
                for name in ("x", "y"):
                    try:
                        v = getattr(obj, name)
                    except AttributeError:
                        continue
                    if type(v) is not Value or v.alive is not True:
                        bad.append(f"{name}: {type(v).__name__} alive={getattr(v, 'alive', '?')}")
                        return

    run("stress_slots", seconds, bad, [writer] * WRITERS + [reader] * READERS)


main()
