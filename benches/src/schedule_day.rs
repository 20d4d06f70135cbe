//! The simulated day of `benches/schedule.rs` and of the `compare` report: 10,000
//! jobs with mixed intervals, `run_pending` once per simulated minute, in clearloop's
//! `schedule` (on a manual `Clock`) and in `clokwerk` (on a fake `TimeProvider`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::TimeZone as _;
use clearloop::clock::Clock;
use clearloop::schedule::Scheduler;
use clokwerk::{Job as _, TimeUnits};
use jiff::civil::date;

pub const JOBS: usize = 10_000;
pub const MINUTES_PER_DAY: u64 = 24 * 60;

// ---- clearloop ----

pub fn clearloop_with_jobs(n: usize, counter: &Arc<AtomicUsize>) -> (Clock, Scheduler) {
    let start = date(2026, 11, 23).at(9, 0, 0, 0).in_tz("UTC").unwrap();
    let clock = Clock::manual_in(&start);
    let s = Scheduler::with_clock(clock.clone());
    for i in 0..n {
        let counter = counter.clone();
        let job = move || {
            counter.fetch_add(1, Ordering::Relaxed);
        };
        let described = match i % 6 {
            0 => s.every(10).minutes(),
            1 => s.every(30).minutes(),
            2 => s.every(1).hour(),
            3 => s.every(2).hours(),
            4 => s.every(6).hours(),
            _ => s.every(1).day().at("10:30"),
        };
        described.do_(job).unwrap();
    }
    (clock, s)
}

pub fn clearloop_day() -> usize {
    let counter = Arc::new(AtomicUsize::new(0));
    let (clock, s) = clearloop_with_jobs(JOBS, &counter);
    for _ in 0..MINUTES_PER_DAY {
        clock.advance(Duration::from_secs(60));
        s.run_pending();
    }
    counter.load(Ordering::Relaxed)
}

// ---- clokwerk, on a fake time ----

/// Seconds since the epoch that `FakeTime` reports.
pub static FAKE_NOW: AtomicI64 = AtomicI64::new(0);

pub struct FakeTime;

impl clokwerk::timeprovider::TimeProvider for FakeTime {
    fn now<Tz>(tz: &Tz) -> chrono::DateTime<Tz>
    where
        Tz: chrono::TimeZone + Sync + Send,
    {
        chrono::Utc
            .timestamp_opt(FAKE_NOW.load(Ordering::Relaxed), 0)
            .unwrap()
            .with_timezone(tz)
    }
}

pub type Clokwerk = clokwerk::Scheduler<chrono::Utc, FakeTime>;

pub fn clokwerk_with_jobs(n: usize, counter: &Arc<AtomicUsize>) -> Clokwerk {
    let start = chrono::Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
    FAKE_NOW.store(start.timestamp(), Ordering::Relaxed);
    let mut s = clokwerk::Scheduler::with_tz_and_provider::<chrono::Utc, FakeTime>(chrono::Utc);
    for i in 0..n {
        let counter = counter.clone();
        let job = move || {
            counter.fetch_add(1, Ordering::Relaxed);
        };
        match i % 6 {
            0 => s.every(10.minutes()).run(job),
            1 => s.every(30.minutes()).run(job),
            2 => s.every(1.hour()).run(job),
            3 => s.every(2.hours()).run(job),
            4 => s.every(6.hours()).run(job),
            _ => s.every(1.day()).at("10:30").run(job),
        };
    }
    s
}

pub fn clokwerk_day() -> usize {
    let counter = Arc::new(AtomicUsize::new(0));
    let mut s = clokwerk_with_jobs(JOBS, &counter);
    for _ in 0..MINUTES_PER_DAY {
        FAKE_NOW.fetch_add(60, Ordering::Relaxed);
        s.run_pending();
    }
    counter.load(Ordering::Relaxed)
}
