"""An instance attribute lookup that finds a class attribute reads the object's class,
then that class's dict. One thread moves obj between classes A and B, storing a new
A.k = ("A", i) only while obj is a B (phase 2i+1), and making obj an A again only
after it has set phase 2i+2. Another thread reads obj.k, then the phase. A read that
returns ("A", i) and ends while the phase is still at most 2i+1 ended before obj was
an A holding that k: it read obj's class (A) before the B phase and A's dict after
the store, a result no single instant explains. It needs the reader to wait between
the two reads: each new A.k makes the reader's next lookup miss the type cache and
take the type lock, which a third thread keeps busy by storing attributes of an
unrelated class C; the reader waits for it detached, so the __class__ assignment's
stop-the-world and the next store of A.k can pass meanwhile. Rare: 1 in 124.8
million reads in 60 s on 2 busy cores (CPython 3.13.15).

usage: python3.13t class-attr-load-torn.py [SECONDS]
Prints how many reads returned an A.k obj could not have had yet; exits 1 if any did.
"""
import sys
import threading
import time


class A:
    __slots__ = ("a",)
    k = ("A", -1)


class B:
    __slots__ = ("a",)
    k = "B"


class C:
    pass


obj = A()
phase = 0  # 2i+1: obj is a B; 2i+2: about to be an A again


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    stop = threading.Event()

    def flip():
        global phase
        i = 0
        while not stop.is_set():
            obj.__class__ = B
            phase = 2 * i + 1
            A.k = ("A", i)
            phase = 2 * i + 2  # before obj becomes an A again
            obj.__class__ = A
            i += 1

    def hog():
        i = 0
        while not stop.is_set():
            C.x = i
            i += 1

    def read(n):
        torn = 0
        for _ in range(n):
            v = obj.k
            if v != "B" and phase <= 2 * v[1] + 1:
                torn += 1
        return torn

    threads = [threading.Thread(target=flip), threading.Thread(target=hog)]
    for t in threads:
        t.start()
    torn = reads = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        torn += read(10000)
        reads += 10000
    stop.set()
    for t in threads:
        t.join()
    print(f"{torn} of {reads} reads returned an A.k obj could not have had yet")
    sys.exit(1 if torn else 0)


if __name__ == "__main__":
    main()
