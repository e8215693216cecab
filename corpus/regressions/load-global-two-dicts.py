"""LOAD_GLOBAL looks a name up in the function's globals, then in its builtins. One
thread keeps the name bound in at least one of the two dicts at every instant (it binds
it in one before it unbinds it in the other); another loads it. A load that raises
NameError saw the name in neither dict at once: globals before a rebinding and builtins
after an unbinding, a result no single instant explains.

usage: python3.14t load_global_two_dicts.py [SECONDS]
Prints how many loads raised NameError; exits 1 if any did.
"""
import sys
import threading
import time

builtins_copy = dict(__builtins__.__dict__ if hasattr(__builtins__, "__dict__") else __builtins__)
g = {"__builtins__": builtins_copy}
exec("def load(n):\n    misses = 0\n    for _ in range(n):\n        try:\n            S0\n"
     "        except NameError:\n            misses += 1\n    return misses\n", g)
builtins_copy["S0"] = 1


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    stop = threading.Event()

    def flip():
        while not stop.is_set():
            g["S0"] = 2
            del builtins_copy["S0"]
            builtins_copy["S0"] = 1
            del g["S0"]

    t = threading.Thread(target=flip)
    t.start()
    misses = loads = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        misses += g["load"](10000)
        loads += 10000
    stop.set()
    t.join()
    print(f"{misses} of {loads} loads raised NameError")
    sys.exit(1 if misses else 0)


if __name__ == "__main__":
    main()
