"""Seed 004's benchmark, sized by its arguments: READERS threads load a module global
and a builtin in a loop (LOAD_GLOBAL_MODULE, LOAD_GLOBAL_BUILTIN once specialized)
while one thread inserts and deletes a key of the same globals every INTERVAL_US
microseconds (0: back to back). Each insert or delete changes the globals' keys, so the
readers' LOAD_GLOBALs deoptimize and specialize again, taking the globals and builtins
locks that the writer holds while it changes the dict.

usage: python3.14t scripts/contention/workload.py READERS INTERVAL_US LOADS_PER_READER
prints one line: "wall_seconds loads"
"""
import sys
import threading
import time

G = 0


def reader(n, start):
    start.wait()
    for _ in range(n // 8):
        G; len; G; len; G; len; G; len  # noqa: B018 -- the loads are the benchmark


def churn(interval, stop, start):
    g = globals()
    start.wait()
    while not stop.is_set():
        g["_churn"] = 1
        del g["_churn"]
        if interval:
            time.sleep(interval)


def main():
    readers, interval_us, loads = (int(a) for a in sys.argv[1:4])
    start, stop = threading.Event(), threading.Event()
    threads = [threading.Thread(target=reader, args=(loads, start)) for _ in range(readers)]
    writer = threading.Thread(target=churn, args=(interval_us / 1e6, stop, start))
    for t in threads + [writer]:
        t.start()
    t0 = time.perf_counter()
    start.set()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    stop.set()
    writer.join()
    print(f"{wall:.3f} {readers * (loads // 8) * 8}")


if __name__ == "__main__":
    main()
