"""Batches of records, the next one read while the current one is written."""

import threading
from collections.abc import Iterable, Iterator
from itertools import islice
from queue import Empty, Full, Queue

_END = object()


def read_ahead(items: Iterable, size: int) -> Iterator[list]:
    """Lists of up to `size` items of `items`, read by a thread one batch ahead.

    Reading a dump is pure Python (decompress, decode JSON, check fields) and writing a
    batch mostly waits for the database, which releases the GIL: with the reading in its
    own thread the two overlap, and on a Papers with Code dump the import takes about the
    time of the writes alone instead of the sum of both. `items` must not touch the
    database (readers only parse). An exception of `items` is raised here, in the caller's
    thread; a caller that stops early stops the thread too.
    """
    queue: Queue = Queue(maxsize=1)
    stop = threading.Event()

    def put(value) -> bool:
        while not stop.is_set():
            try:
                queue.put(value, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce():
        iterator = iter(items)
        try:
            while batch := list(islice(iterator, size)):
                if not put(batch):
                    return
            put(_END)
        except BaseException as exc:
            put(exc)

    thread = threading.Thread(target=produce, name="import-reader", daemon=True)
    thread.start()
    try:
        while True:
            try:
                value = queue.get(timeout=0.1)
            except Empty:
                if not thread.is_alive() and queue.empty():
                    return  # stopped without a word: nothing more will come
                continue
            if value is _END:
                return
            if isinstance(value, BaseException):
                raise value
            yield value
    finally:
        stop.set()
        thread.join()
