"""How a run's arithmetic is done on the CPU: the same numbers on any number of threads, at any machine load.

A seed is a run: the same settings and seed must give the same numbers whether a run trains alone on a quiet
machine, beside another run, or on a class server whose cores are busy. Two things would break that, and one
would make a busy machine 10-20x slower; this module owns all three.

**Matrix products in fixed blocks.** A multi-threaded BLAS splits a product by its thread count, and with
the split goes the order in which it adds up each output's terms: one thread and two gave validation losses
differing in the 9th digit after two epochs. So BLAS runs one thread in a process that imports nn (set
once, at import), and ``matmul`` cuts a large product into blocks fixed by the shapes alone,
each one a one-thread BLAS call. ``workers`` threads share the blocks (``set_workers``: the caller plus
helper threads); one worker or four, the blocks, and so every number, are the same, only the time changes.
A block is a slice of the larger operand, the weights in training, so no block packs another's data.
The helpers sleep on a queue between products, where OpenBLAS's own threads spin: on two cores that other
processes also wanted, those spinning threads made an epoch 10-20x slower. A block a helper has not picked
up yet is taken by the caller, so a helper the scheduler holds back costs at most one block's wait.

**Subnormal floats flushed to zero.** Adam's second moments of border pixels' weights decay through the
subnormal range, where every operation on them takes 40x longer: epochs grew from 0.9 s to 6 s over a
100-epoch run. ``arithmetic`` sets the CPU's flush-to-zero and denormals-are-zero modes (x86's MXCSR) in
the thread that computes, as XLA does by default, and the helpers always run with them; the NumPy reference
and the Numba kernels then see the same zeros and stay bit-identical. Without Numba (which compiles the
two-instruction MXCSR access) or off x86, nothing is flushed: the numbers are still reproducible, only
slower on long runs.

``arithmetic()`` nests, is entered by ``fit``, ``evaluate``, ``predict`` and the lr finder, and restores the
thread's float mode when the outermost one leaves. The one lasting effect of importing nn: NumPy's own BLAS
runs one thread in this process (a notebook's other products included).
"""
from __future__ import annotations

import ctypes
import importlib.util
import itertools
import os
import platform
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

# A product of fewer multiply-adds than this runs as one call (a block below it loses more to the hand-off,
# ~20 us, than it gains); a larger one is cut into up to MAX_BLOCKS blocks of at least this much work.
# Both were measured on 2 cores (benchmarks/bench_epoch.py); changing either changes every run's numbers.
BLOCK_WORK = 1 << 21
MAX_BLOCKS = 4
# An elementwise pass (an optimizer's update) is shared by the workers in pieces of at least this many
# elements: below it, the hand-off to a helper (~20 us) costs more than half the pass saves.
ELEMENTS_PER_PIECE = 1 << 17
ALIGN = 16  # block edges on multiples of 16 rows or columns: whole SIMD registers for BLAS's kernels
# A helper that finished a block looks for the next product this many times (about 0.3 us each, yielding
# the core between looks) before it sleeps: waking a sleeping thread takes ~40 us, a block 40-300 us.
WAIT_ROUNDS = 300
FLUSH_BITS = 0x8040  # MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6)


# ---------------------------------------------------------------------- products in fixed blocks
@dataclass(frozen=True)
class Plan:
    """How a product of an (m, k) by a (k, n) matrix is cut: along ``axis`` 0 (rows of the left factor and
    the output) or 1 (columns of the right factor and the output), at ``edges``."""

    axis: int
    edges: tuple[tuple[int, int], ...]


_plans: dict[tuple[int, int, int], Plan | None] = {}


def plan(m: int, k: int, n: int) -> Plan | None:
    """The fixed blocks of an (m, k) @ (k, n) product, or None to compute it whole: a function of the three
    sizes alone, so a product is added up the same way wherever and however often it runs."""
    key = (m, k, n)
    if key not in _plans:
        blocks = min(MAX_BLOCKS, m * k * n // BLOCK_WORK)
        # cut the larger factor (the weights, in training), so each block reads its own part of it
        axis, length = (1, n) if n >= m else (0, m)
        step = -(-length // max(blocks, 1))
        step = -(-step // ALIGN) * ALIGN
        edges = tuple((start, min(start + step, length)) for start in range(0, length, step))
        _plans[key] = Plan(axis, edges) if blocks >= 2 and len(edges) >= 2 else None
    return _plans[key]


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b, out=out)`` for 2-D ``a`` and ``b``, cut into ``plan``'s fixed blocks and shared by the
    workers: the result does not depend on how many workers there are."""
    cut = plan(a.shape[0], a.shape[1], b.shape[1]) if a.ndim == 2 and b.ndim == 2 else None
    if cut is None:
        return np.matmul(a, b, out=out)
    if cut.axis == 0:
        _pool.run([partial(np.matmul, a[start:stop], b, out=out[start:stop]) for start, stop in cut.edges])
    else:
        _pool.run([partial(np.matmul, a, b[:, start:stop], out=out[:, start:stop]) for start, stop in cut.edges])
    return out


def elementwise(kernel: Callable[..., Any], arrays: Sequence[np.ndarray], *scalars: Any) -> None:
    """Run an in-place elementwise ``kernel(*arrays, *scalars)`` over equal-length 1-D ``arrays``, cut into
    pieces shared by the workers when they are long (an optimizer's update of a large network). Each
    element's arithmetic is its own, so any cut gives the numbers of one call."""
    size = arrays[0].size
    pieces = min(workers(), size // ELEMENTS_PER_PIECE)
    if pieces < 2 or not _inside():
        kernel(*arrays, *scalars)
        return
    step = -(-size // pieces)
    step = -(-step // ALIGN) * ALIGN
    _pool.run([partial(kernel, *(a[start:start + step] for a in arrays), *scalars) for start in range(0, size, step)])


Task = Callable[[], Any]


class _Pieces:
    """One operation's pieces, taken one at a time by whichever worker asks first (the caller among them)."""

    def __init__(self, tasks: list[Task], flushing: bool):
        self.tasks = tasks
        self.flushing = flushing  # the caller's float mode, which the helpers take on for these pieces
        self.taken = itertools.count()  # next() on a count is atomic under the GIL
        self.left = len(tasks)
        self.lock = threading.Lock()
        self.done = threading.Lock()
        self.done.acquire()  # released by whoever finishes the last piece
        self.error: BaseException | None = None

    def work(self) -> None:
        while (i := next(self.taken)) < len(self.tasks):
            try:
                self.tasks[i]()
            except BaseException as exc:  # handed to the caller, which raises it
                self.error = exc
            with self.lock:
                self.left -= 1
                if not self.left:
                    self.done.release()

    def wait(self) -> None:
        self.done.acquire()
        if self.error is not None:
            raise self.error


class _Pool:
    """Helper threads (created as needed, daemons) that take blocks of products posted by computing threads.

    ``workers`` counts the caller: 1 computes everything in the caller, 2 adds one helper, and so on."""

    def __init__(self) -> None:
        self.workers = _cores()
        self._waiting: queue.SimpleQueue[_Pieces] = queue.SimpleQueue()
        self._posted = np.zeros(1, np.int64)  # bumped after every post: what a waiting helper watches
        self._helpers: list[threading.Thread] = []
        self._lock = threading.Lock()

    def run(self, tasks: list[Task]) -> None:
        helpers = min(self.workers, len(tasks)) - 1
        if helpers <= 0 or not _inside():  # outside ``arithmetic`` no helper may compute (its float mode)
            for task in tasks:
                task()
            return
        self._ensure(helpers)
        pieces = _Pieces(tasks, getattr(_state, "flushing", False))
        for _ in range(helpers):
            self._waiting.put(pieces)
        self._posted[0] += 1
        pieces.work()
        pieces.wait()

    def _ensure(self, helpers: int) -> None:
        if len(self._helpers) >= helpers:
            return
        with self._lock:
            while len(self._helpers) < helpers:
                helper = threading.Thread(target=self._serve, name=f"nn-compute-{len(self._helpers) + 1}",
                                          daemon=True)
                helper.start()
                self._helpers.append(helper)

    def _serve(self) -> None:
        wait = _polite_wait()
        seen = int(self._posted[0])
        plain = _read_float_mode()  # this thread's float mode as it started: what "not flushing" means here
        flushing = False
        while True:
            if wait is not None and self._waiting.empty():
                wait(self._posted, seen, WAIT_ROUNDS)  # without the GIL, yielding the core at every look
            pieces = self._waiting.get()  # sleeps when the short wait saw nothing
            seen = int(self._posted[0])
            if pieces.flushing != flushing:  # the caller's float mode, so a piece computes as the caller would
                if pieces.flushing:
                    flush_subnormals()
                else:
                    restore_float_mode(plain)
                flushing = pieces.flushing
            pieces.work()


def _cores() -> int:
    """The cores this process may run on: the workers of a product until ``set_workers`` says otherwise."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _polite_wait() -> Callable[[np.ndarray, int, int], bool] | None:
    """A compiled loop that watches ``posted[0]`` change, at most ``rounds`` looks, yielding the core between
    looks (sched_yield) and holding no GIL; None without Numba or sched_yield (the helper then only sleeps)."""
    if importlib.util.find_spec("numba") is None:
        return None
    try:
        yield_core = ctypes.CDLL(None).sched_yield
    except (OSError, AttributeError):
        return None
    yield_core.restype, yield_core.argtypes = ctypes.c_int, []
    from numba import njit

    @njit(nogil=True)
    def wait(posted: np.ndarray, seen: int, rounds: int) -> bool:
        for _ in range(rounds):
            if posted[0] != seen:  # read again after every call: the call may have changed memory
                return True
            yield_core()
        return False

    return wait


_pool = _Pool()


def set_workers(workers: int) -> None:
    """How many threads (the caller included) share a product's blocks from now on, in this process. It
    changes the time a product takes, never its numbers; experiments/runs/threads.py decides it."""
    _pool.workers = max(1, int(workers))


def workers() -> int:
    """The threads that share a product's blocks now (see ``set_workers``)."""
    return _pool.workers


# ---------------------------------------------------------------------- BLAS on one thread
def _limit_blas(threads: int) -> Any:
    """Set NumPy's BLAS (and any other loaded now) to ``threads`` threads, process-wide, for good.

    Once, when nn is imported, and never put back: OpenBLAS takes a new count from any thread only until the
    process's main thread has set one; from then on a count set by another thread (the dashboard's worker,
    a notebook's background run) is silently ignored, so a limit taken and put back around each run would
    leave later runs on whatever the main thread last set."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # then BLAS keeps its own count: the numbers may depend on it
        return None
    return ThreadpoolController().limit(limits=threads, user_api="blas")


_blas_limit = _limit_blas(1)
_state = threading.local()  # per thread: how deep in ``arithmetic``


def _inside() -> bool:
    return getattr(_state, "depth", 0) > 0


@contextmanager
def arithmetic() -> Iterator[None]:
    """While inside: products in fixed blocks shared by the workers, and subnormals flushed in this thread
    (restored on leaving). Nests; cheap when already inside."""
    depth = getattr(_state, "depth", 0)
    previous = None if depth else flush_subnormals()
    if not depth:
        _state.flushing = previous is not None
    _state.depth = depth + 1
    try:
        yield
    finally:
        _state.depth = depth
        if not depth:
            _state.flushing = False
            restore_float_mode(previous)


# ---------------------------------------------------------------------- subnormals
def _mxcsr_access() -> tuple[Callable[[], int], Callable[[int], int]] | None:
    """(read, swap) of this thread's MXCSR, compiled by Numba from LLVM's two intrinsics; None where there is
    no MXCSR (not x86-64) or no Numba."""
    if platform.machine().lower() not in ("x86_64", "amd64") or importlib.util.find_spec("numba") is None:
        return None
    from llvmlite import ir
    from numba import njit, types
    from numba.core import cgutils
    from numba.extending import intrinsic

    def call(builder: Any, name: str, slot: Any) -> None:
        pointer = ir.IntType(8).as_pointer()
        function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [pointer]),
                                                  name)
        builder.call(function, [builder.bitcast(slot, pointer)])

    @intrinsic
    def swap_mxcsr(typingctx: Any, new: Any) -> Any:
        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            slot = cgutils.alloca_once(builder, ir.IntType(32))
            call(builder, "llvm.x86.sse.stmxcsr", slot)
            old = builder.load(slot)
            builder.store(args[0], slot)
            call(builder, "llvm.x86.sse.ldmxcsr", slot)
            return old
        return types.uint32(types.uint32), codegen

    @intrinsic
    def read_mxcsr(typingctx: Any) -> Any:
        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            slot = cgutils.alloca_once(builder, ir.IntType(32))
            call(builder, "llvm.x86.sse.stmxcsr", slot)
            return builder.load(slot)
        return types.uint32(), codegen

    @njit(nogil=True)
    def read() -> int:
        return read_mxcsr()  # type: ignore[call-arg]  # an intrinsic: Numba supplies the typing context

    @njit(nogil=True)
    def swap(new: int) -> int:
        return swap_mxcsr(new)  # type: ignore[call-arg]

    return read, swap


_access: tuple[Callable[[], int], Callable[[int], int]] | None = None
_access_lock = threading.Lock()
_access_checked = False


def _mxcsr() -> tuple[Callable[[], int], Callable[[int], int]] | None:
    global _access, _access_checked
    if not _access_checked:
        with _access_lock:
            if not _access_checked:
                _access = _mxcsr_access()
                _access_checked = True
    return _access


def can_flush() -> bool:
    """Whether this machine and install can flush subnormals (x86-64 with Numba)."""
    return _mxcsr() is not None


# The switch, as ``Optimizer.fused`` is the optimizers': False leaves subnormals as they are (benchmarks/steps.py
# times both ways). Changing it changes a run's numbers.
flush: bool = True


def flush_subnormals() -> int | None:
    """Flush subnormal results to zero and read subnormal inputs as zero in this thread; return the previous
    float mode (for ``restore_float_mode``), or None where it cannot be done (or ``flush`` is off)."""
    access = _mxcsr()
    if access is None or not flush:
        return None
    read, swap = access
    return int(swap(int(read()) | FLUSH_BITS))


def _read_float_mode() -> int | None:
    """This thread's float mode now (for ``restore_float_mode``), or None where it cannot be read."""
    access = _mxcsr()
    return None if access is None else int(access[0]())


def restore_float_mode(previous: int | None) -> None:
    """Put back the float mode ``flush_subnormals`` returned."""
    access = _mxcsr()
    if access is not None and previous is not None:
        access[1](previous)


def flushing() -> bool:
    """Whether this thread flushes subnormals now."""
    access = _mxcsr()
    return access is not None and int(access[0]()) & FLUSH_BITS == FLUSH_BITS
