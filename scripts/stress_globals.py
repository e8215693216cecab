"""Plain stress test of LOAD_GLOBAL in the style the LOAD_GLOBAL try-lock proposal was
measured with: reader threads load a module global and a builtin in a hot loop while
one thread keeps changing both dicts, so the specialized loads keep deoptimizing and
specializing again. The baseline that scripts/bench-detect compares fuzz_globals with.

usage: python3.14t scripts/stress_globals.py [SECONDS]
Exits 1 if a reader gets a dead or foreign value, or a NameError for a name that is
bound at every instant; a crash or a hang of the interpreter is the other way it finds
something.
"""
import sys
import time

from stress_common import Value, run

READERS = 4


# A globals dict of its own, with builtins of its own: changing them disturbs nothing
# else in the interpreter.
builtins_own = dict(__builtins__.__dict__ if hasattr(__builtins__, "__dict__") else __builtins__)
world = {"__builtins__": builtins_own, "Value": Value, "G": Value()}
builtins_own["B"] = Value()
exec(
    "def load(n, bad):\n"
    "    for _ in range(n):\n"
    "        for name, v in (('G', G), ('B', B)):\n"
    "            if type(v) is not Value or v.alive is not True:\n"
    "                bad.append(f'{name}: {type(v).__name__} alive={getattr(v, \"alive\", \"?\")}')\n"
    "                return\n",
    world,
)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    deadline = time.monotonic() + seconds
    bad = []

    def changer():
        # G and B stay bound throughout; the other keys only change the dicts' versions
        # and key sets, which is what invalidates a specialized LOAD_GLOBAL.
        i = 0
        while time.monotonic() < deadline and not bad:
            for _ in range(100):
                i += 1
                world["G"] = Value()
                builtins_own["B"] = Value()
                world[f"k{i % 64}"] = i
                builtins_own[f"b{i % 64}"] = i
                if i % 3 == 0:
                    world.pop(f"k{(i + 32) % 64}", None)
                    builtins_own.pop(f"b{(i + 32) % 64}", None)

    def reader():
        while time.monotonic() < deadline and not bad:
            try:
                world["load"](1000, bad)
            except NameError as e:
                bad.append(f"NameError for a name bound throughout: {e}")

    run("stress_globals", seconds, bad, [changer] + [reader] * READERS)


main()
