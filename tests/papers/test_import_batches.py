"""papers.importers.batches.read_ahead: batches of a reader, read one ahead in a thread."""

import threading

import pytest

from papers.importers.batches import read_ahead


def test_it_yields_the_items_in_batches_in_order():
    assert list(read_ahead(iter(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(read_ahead(iter([]), 3)) == []


def test_it_reads_the_next_batch_while_the_caller_holds_this_one():
    second_batch_read = threading.Event()

    def items():
        yield from (1, 2)
        second_batch_read.set()
        yield 3

    batches = read_ahead(items(), 2)

    assert next(batches) == [1, 2]
    assert second_batch_read.wait(timeout=10)
    assert list(batches) == [[3]]


def test_it_raises_a_reader_error_in_the_caller_after_the_batches_before_it():
    def items():
        yield from (1, 2)
        raise ValueError("broken reader")

    batches = read_ahead(items(), 2)

    assert next(batches) == [1, 2]
    with pytest.raises(ValueError, match="broken reader"):
        next(batches)


def test_it_stops_reading_when_the_caller_stops():
    read = []

    def items():
        for number in range(1_000_000):
            read.append(number)
            yield number

    batches = read_ahead(items(), 10)
    next(batches)
    batches.close()

    assert not any(t.name == "import-reader" for t in threading.enumerate())
    assert len(read) <= 40  # this batch, one queued, one being read
