"""The CPython 3.11 bug behind the directory's native crash, in pure Python and one thread.

    /root/.pyenv/versions/3.11.7/bin/python bench/cpython311_dict_crash.py   # SIGSEGV (exit -11)
    /root/.pyenv/versions/3.12.1/bin/python bench/cpython311_dict_crash.py   # "no crash"

No third-party code: it imitates what SQLAlchemy's InstanceState does (docs/operations.md, "A
native crash in the directory"). On 3.11 an instance's attributes live in a values array shared
with its class's keys until a store needs a key the class's keys have no room for; the store then
builds a dict from the values (`_PyObject_StoreInstanceAttribute`). Building that dict allocates,
and on 3.11 an allocation can start a garbage collection. If the collection frees the object a
weakref callback watches, and the callback stores a new attribute on the very instance being
stored to, the callback builds a dict from the same values array and, resizing it for the new
key, frees the array. The outer store then installs its dict over the freed array, and the next
resize frees it a second time: the debug allocator's double free, or a segfault in `dictresize`.
CPython 3.12 runs the collector only between bytecodes (gh-97922), so the callback runs after the
store, not inside it. Exit status 0 means no crash in the rounds tried.
"""

from __future__ import annotations

import gc
import sys
import weakref

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 400


class Thing:
    """A mapped object: garbage in a reference cycle, so only the collector frees it."""


class State:
    """InstanceState's shape: a weakref to its object whose callback stores on the state."""

    def __init__(self, obj: Thing) -> None:
        self.obj = weakref.ref(obj, self.cleanup)
        self.key = None
        self.session_id = 1

    def cleanup(self, _ref: object) -> None:  # InstanceState._cleanup
        self.session_id = None
        self.strong_obj = None  # a key the class's shared keys have no room for


def main() -> int:
    alive = [Thing() for _ in range(50)]
    states = [State(thing) for thing in alive]  # each new instance lowers the keys' room
    states[0].filler = None  # takes the last free slot
    collected_inside = 0
    for attempt in range(ROUNDS):
        gc.disable()
        hoard = [{} for _ in range(100)]  # empties the dict free list: a new dict is allocated
        thing = Thing()
        thing.me = thing
        state = State(thing)
        del thing
        # the next allocation or the one after starts a collection
        gc.set_threshold(gc.get_count()[0] + attempt % 3)
        gc.enable()
        state.strong_obj = None  # builds the state's dict: the collection may start in there
        gc.disable()
        collected_inside += state.obj() is None
        state.strong_obj = 1
        del hoard
    gc.enable()
    gc.set_threshold(700)
    print(f"no crash on {sys.version.split()[0]}; {collected_inside} objects collected by then")
    return 0


if __name__ == "__main__":
    sys.exit(main())
