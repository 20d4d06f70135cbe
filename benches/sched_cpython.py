"""CPython's `sched` on the workloads of benches/sched.rs, for comparison.

Run by `cargo bench -p clearloop-bench --bench sched` (which prints the ratios), or by hand:

    python3 benches/sched_cpython.py            # quick: cancel measured at 10,000
    python3 benches/sched_cpython.py --cancel-n 100000   # the real thing: ~16 minutes

Each line printed is `name seconds` (or `name bytes`), so the Rust bench can read it.

Why the cancel default is 10,000 and not 100,000: `scheduler.cancel` is
`list.remove` plus `heapq.heapify`, two O(n) passes, so cancelling n events costs
O(n^2). On the 2-core VM this was written on, 10,000 cancels took 5 to 7 s and
100,000 took 971 s (16 minutes). The script also prints an n^2 extrapolation to
100,000, labelled as such.
"""

import argparse
import sched
import time
import tracemalloc


def best_of(runs, work):
    """Smallest wall time of `runs` calls of `work()`: the least disturbed run."""
    best = float("inf")
    for _ in range(runs):
        best = min(best, work())
    return best


def enter_run(n, delayfunc=time.sleep):
    def work():
        s = sched.scheduler(time.monotonic, delayfunc)
        action = lambda: None
        start = time.perf_counter()
        for _ in range(n):
            s.enter(0, 1, action)
        s.run()
        return time.perf_counter() - start

    return work


def enter_cancel(n):
    def work():
        s = sched.scheduler()
        action = lambda: None
        start = time.perf_counter()
        events = [s.enter(3600, 1, action) for _ in range(n)]
        for event in events:
            s.cancel(event)
        return time.perf_counter() - start

    return work


def memory_per_event(n):
    s = sched.scheduler()
    action = lambda: None
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(n):
        s.enter(3600, 1, action)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--cancel-n", type=int, default=10_000)
    parser.add_argument("--memory-n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    print(f"enter_run_{args.n} {best_of(args.runs, enter_run(args.n)):.6f}", flush=True)
    # CPython's run() calls delayfunc(0) after every action ("a questionable hack"
    # to let other threads run): time.sleep(0) is a system call. Without it:
    no_sleep = enter_run(args.n, delayfunc=lambda seconds: None)
    print(f"enter_run_nosleep_{args.n} {best_of(args.runs, no_sleep):.6f}", flush=True)

    cancel_n = args.cancel_n
    cancel = best_of(1 if cancel_n > 20_000 else args.runs, enter_cancel(cancel_n))
    print(f"enter_cancel_{cancel_n} {cancel:.6f}", flush=True)
    if cancel_n < 100_000:
        estimate = cancel * (100_000 / cancel_n) ** 2
        print(f"enter_cancel_100000_extrapolated {estimate:.6f}", flush=True)

    print(f"bytes_per_event {memory_per_event(args.memory_n):.1f}", flush=True)


if __name__ == "__main__":
    main()
