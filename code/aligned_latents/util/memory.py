"""The process's memory: giving freed C-heap memory back to the system (the paper-scale
run's peak memory, issue 18)."""
from __future__ import annotations


def trim_heap() -> bool:
    """Give the memory that the C allocator holds free back to the system (glibc's
    ``malloc_trim(0)``; False where there is none, e.g. not on glibc). Called after each
    protocol of the analogy search
    (:func:`~aligned_latents.metrics.analogy.analogy_accuracy`); also trimming after
    ``applications.glove.encode_linear`` measured no lower peak at 500,000 x 300
    (``benchmarks/paper_scale.py``: the codes step 2.95x the matrix with it, 2.94x
    without), so it is not called there.

    The search frees tens of MB of temporaries of a few MB each (query vectors, list
    keys, score tiles); glibc serves such sizes from its heap once larger blocks have
    been freed (its mmap threshold rises up to 32 MB) and keeps what is freed there up
    to 64 MB at the top, and in the middle of the heap without limit: measured at
    500,000 x 300 (``benchmarks/paper_scale.py``), the process stayed about 0.15x the
    float32 matrix above its live data after one space's evaluation, and that was the
    peak when the next space's codes were allocated. Freeing costs well under a
    millisecond and changes no value. Where the environment turns glibc's rising mmap
    threshold off (``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_`` and the like
    set), such blocks are mapped and given back on free, and there is little left to
    trim: the likely reason why, on this project's CI machine, trimming gave back
    0.05 MB of ``tests/test_memory_bounds.py``'s 63 MB of freed blocks before that test
    set the thresholds itself.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):
        return False
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)
    return True
