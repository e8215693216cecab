# Pure-Python reproducer, outside the fuzzer, for the finding in
# t-object-get-one-uaf.txt: on free-threaded 3.13, PyMember_GetOne reads a _Py_T_OBJECT
# member with a plain load and Py_INCREF (no try-incref, no critical section), while
# PyMember_SetOne releases the old value after its critical section. A reader can take a
# reference to a value a writer has just freed. StopIteration.value is such a member.
# Run: <prefix>/bin/python3.13t corpus/regressions/t-object-get-one-uaf.py
import sys
import threading

holder = StopIteration()
stop = threading.Event()


class Marker:
    __slots__ = ("alive",)

    def __init__(self):
        self.alive = 0xA11FE

    def __del__(self):
        self.alive = 0xDEAD


def writer():
    while not stop.is_set():
        holder.value = Marker()


bad = []


def reader():
    for _ in range(2_000_000):
        v = holder.value
        if v is not None and getattr(v, "alive", None) != 0xA11FE:
            bad.append(repr(getattr(v, "alive", v)))
            break
    stop.set()


threads = [threading.Thread(target=writer) for _ in range(2)]
threads += [threading.Thread(target=reader) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("dead value read:", bad if bad else "none seen")
sys.exit(1 if bad else 0)
