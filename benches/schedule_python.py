"""Python's `schedule` library on the workloads of benches/schedule.rs.

Run by `cargo bench -p clearloop-bench --bench schedule` (which prints the ratios), or by hand:

    python3 benches/schedule_python.py [--runs N] [--day-only]

Each line printed is `name seconds` (or `name count`), for the Rust bench to read.
Without the library (`pip install schedule`) it prints `skip: ...` and exits 0.

Time is faked the way schedule's own tests do it: `datetime.datetime` is replaced
by a subclass whose `now()` returns a date-time we move by hand, starting on
Monday 2026-11-23 09:00 (naive, local time as the library uses it).
"""

import argparse
import datetime
import sys
import time

try:
    import schedule
except ImportError:
    print("skip: the schedule package is not installed (pip install schedule)")
    sys.exit(0)

REAL_DATETIME = datetime.datetime
NOW = [REAL_DATETIME(2026, 11, 23, 9, 0, 0)]


class FakeDatetime(REAL_DATETIME):
    @classmethod
    def now(cls, tz=None):
        return NOW[0]


datetime.datetime = FakeDatetime


def add_mixed_jobs(s, n, counter):
    def job():
        counter[0] += 1

    for i in range(n):
        kind = i % 6
        if kind == 0:
            s.every(10).minutes.do(job)
        elif kind == 1:
            s.every(30).minutes.do(job)
        elif kind == 2:
            s.every().hour.do(job)
        elif kind == 3:
            s.every(2).hours.do(job)
        elif kind == 4:
            s.every(6).hours.do(job)
        else:
            s.every().day.at("10:30").do(job)


def simulated_day(n=10_000):
    """n mixed jobs, run_pending once per simulated minute for a day."""
    NOW[0] = REAL_DATETIME(2026, 11, 23, 9, 0, 0)
    s = schedule.Scheduler()
    counter = [0]
    add_mixed_jobs(s, n, counter)
    start = time.perf_counter()
    for _ in range(24 * 60):
        NOW[0] += datetime.timedelta(minutes=1)
        s.run_pending()
    return time.perf_counter() - start, counter[0]


def idle_run_pending(n, calls=20):
    """One run_pending with n jobs of which none is due (seconds per call)."""
    NOW[0] = REAL_DATETIME(2026, 11, 23, 9, 0, 0)
    s = schedule.Scheduler()
    counter = [0]
    add_mixed_jobs(s, n, counter)
    start = time.perf_counter()
    for _ in range(calls):
        s.run_pending()
    return (time.perf_counter() - start) / calls


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1, help="best of this many days")
    parser.add_argument("--day-only", action="store_true", help="skip the idle timings")
    args = parser.parse_args()
    days = [simulated_day() for _ in range(args.runs)]
    seconds, runs = min(days)
    print(f"day_10000 {seconds:.6f}")
    print(f"day_10000_runs {runs}")
    if args.day_only:
        return
    for n in (1_000, 10_000, 100_000):
        print(f"idle_{n} {idle_run_pending(n):.9f}")


if __name__ == "__main__":
    main()
