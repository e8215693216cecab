"""Two threads delete the same __slots__ attribute, which was set once: at most one may
succeed, the other must raise AttributeError (as `del` of an unset slot does).

usage: python3.13t slot_delete_twice.py [ROUNDS]
Prints in how many rounds both deletes succeeded; exits 1 if any did.
"""
import sys
import threading


class S:
    __slots__ = ("a",)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    o = S()
    state = [0, 0]  # [round the helper may delete in, round it has deleted in]
    helper_ok = [0]

    def helper():
        for r in range(1, rounds + 1):
            while state[0] != r:  # spin: both threads stay on their cores
                pass
            try:
                del o.a
                helper_ok[0] = 1
            except AttributeError:
                helper_ok[0] = 0
            state[1] = r

    t = threading.Thread(target=helper)
    t.start()
    both = 0
    for r in range(1, rounds + 1):
        o.a = object()
        state[0] = r
        try:
            del o.a
            mine = 1
        except AttributeError:
            mine = 0
        while state[1] != r:
            pass
        both += mine and helper_ok[0]
    t.join()
    print(f"{both} of {rounds} rounds: both deletes of one value succeeded")
    sys.exit(1 if both else 0)


if __name__ == "__main__":
    main()
