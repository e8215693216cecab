"""What the plain stress scripts share: a value that knows whether it is still alive, and
running their threads to a verdict. The scripts are baselines for scripts/bench-detect,
so they report the way it reads: one line, exit 1 on a finding."""
import sys
import threading


class Value:
    __slots__ = ("alive",)

    def __init__(self):
        self.alive = True

    def __del__(self):
        self.alive = False


def run(name, seconds, bad, workers):
    """Runs each of WORKERS in a thread of its own until all return; exits 1 naming the
    first entry of BAD if any thread added one."""
    threads = [threading.Thread(target=w) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if bad:
        print(f"{name}: inconsistent value read:", bad[0])
        sys.exit(1)
    print(f"{name}: nothing found in", seconds, "s")
