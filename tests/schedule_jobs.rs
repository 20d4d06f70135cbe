//! `schedule` on the virtual clock: units, `at()`, errors, `to`, `until`, tags,
//! cancel, display, missed runs and drift. Every date-time is exact, every test
//! instant: the clock starts on Monday 2026-11-23 09:00 in Europe/Paris and only
//! moves when a test moves it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::schedule::{CancelJob, DriftPolicy, Job, ScheduleError, Scheduler};
use jiff::civil::{date, time};
use jiff::{Timestamp, ZonedDateTime};

fn start_at(y: i16, m: i8, d: i8, h: i8) -> (Clock, Scheduler) {
    let start = date(y, m, d).at(h, 0, 0, 0).in_tz("Europe/Paris").unwrap();
    let clock = Clock::virtual_in(&start);
    (clock.clone(), Scheduler::with_clock(clock))
}

/// Monday 2026-11-23 09:00, Europe/Paris.
fn monday() -> (Clock, Scheduler) {
    start_at(2026, 11, 23, 9)
}

fn show(t: &ZonedDateTime) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S %Z").to_string()
}

fn next(job: &Job) -> String {
    show(&job.next_run().expect("the job is scheduled"))
}

/// Moves the clock to `text` ("2026-11-23 10:30:00") in its zone.
fn go(clock: &Clock, text: &str) {
    let target: Timestamp = clock
        .time_zone()
        .to_timestamp(text.parse().unwrap())
        .unwrap();
    let by = target.duration_since(clock.timestamp_now());
    clock.advance(Duration::try_from(by).expect("tests only move forward"));
}

/// A job that counts its runs and records when they happened.
fn recorder(clock: &Clock) -> (Arc<Mutex<Vec<String>>>, impl FnMut() + Send + 'static) {
    let runs = Arc::new(Mutex::new(Vec::new()));
    let (log, clock) = (runs.clone(), clock.clone());
    (runs, move || {
        log.lock().unwrap().push(show(&clock.zoned_now()))
    })
}

fn job() {}

#[test]
fn each_unit_sets_the_first_run() {
    let (_clock, s) = monday();
    let cases = [
        (s.every(10).seconds().do_(job), "2026-11-23 09:00:10 CET"),
        (s.every(1).second().do_(job), "2026-11-23 09:00:01 CET"),
        (s.every(10).minutes().do_(job), "2026-11-23 09:10:00 CET"),
        (s.every(1).minute().do_(job), "2026-11-23 09:01:00 CET"),
        (s.every(3).hours().do_(job), "2026-11-23 12:00:00 CET"),
        (s.every(1).hour().do_(job), "2026-11-23 10:00:00 CET"),
        (s.every(2).days().do_(job), "2026-11-25 09:00:00 CET"),
        (s.every(1).day().do_(job), "2026-11-24 09:00:00 CET"),
        (s.every(2).weeks().do_(job), "2026-12-07 09:00:00 CET"),
        (s.every(1).week().do_(job), "2026-11-30 09:00:00 CET"),
        // Today is Monday: the next Monday at this time.
        (s.every(1).monday().do_(job), "2026-11-30 09:00:00 CET"),
        (s.every(1).tuesday().do_(job), "2026-11-24 09:00:00 CET"),
        (s.every(1).sunday().do_(job), "2026-11-29 09:00:00 CET"),
    ];
    for (i, (job, expected)) in cases.into_iter().enumerate() {
        assert_eq!(next(&job.unwrap()), expected, "case {i}");
    }
}

#[test]
fn each_at_format() {
    let (_clock, s) = monday();
    let cases = [
        (
            s.every(1).day().at("10:30").do_(job),
            "2026-11-23 10:30:00 CET",
        ),
        (
            s.every(1).day().at("10:30:15").do_(job),
            "2026-11-23 10:30:15 CET",
        ),
        // Already past today: tomorrow.
        (
            s.every(1).day().at("08:00").do_(job),
            "2026-11-24 08:00:00 CET",
        ),
        (
            s.every(1).day().at("09:00").do_(job),
            "2026-11-24 09:00:00 CET",
        ),
        // Python adds one interval first when it is not 1.
        (
            s.every(2).days().at("10:30").do_(job),
            "2026-11-25 10:30:00 CET",
        ),
        (
            s.every(1).wednesday().at("13:15").do_(job),
            "2026-11-25 13:15:00 CET",
        ),
        (
            s.every(1).monday().at("10:00").do_(job),
            "2026-11-23 10:00:00 CET",
        ),
        (
            s.every(1).monday().at("08:00").do_(job),
            "2026-11-30 08:00:00 CET",
        ),
        (
            s.every(1).hour().at(":15").do_(job),
            "2026-11-23 09:15:00 CET",
        ),
        (
            s.every(1).hour().at("30:05").do_(job),
            "2026-11-23 09:30:05 CET",
        ),
        (
            s.every(1).minute().at(":17").do_(job),
            "2026-11-23 09:00:17 CET",
        ),
        (
            s.every(5).minutes().at(":17").do_(job),
            "2026-11-23 09:05:17 CET",
        ),
    ];
    for (i, (job, expected)) in cases.into_iter().enumerate() {
        assert_eq!(next(&job.unwrap()), expected, "case {i}");
    }
}

#[test]
fn misuse_is_a_clear_error() {
    let (_clock, s) = monday();
    let cases: Vec<(Result<Job, ScheduleError>, &str)> = vec![
        (
            s.every(2).monday().do_(job),
            "every(2).monday(): weekday jobs run every week",
        ),
        (
            s.every(10).minute().do_(job),
            "use minutes() instead of minute()",
        ),
        (
            s.every(0).seconds().do_(job),
            "every(0): the interval must be at least 1",
        ),
        (
            s.every(1).minute().hours().do_(job),
            "already has a unit (minutes)",
        ),
        (s.every(5).do_(job), "every(5) has no unit"),
        (
            s.every(10).seconds().at(":10").do_(job),
            "at() cannot be used with every(..).seconds()",
        ),
        (
            s.every(2).weeks().at("10:00").do_(job),
            "at() cannot be used with every(..).weeks()",
        ),
        (
            s.every(1).day().at("25:00").do_(job),
            "invalid time \"25:00\" for a daily job (hour 25 is not in 00-23): expected \"HH:MM:SS\" or \"HH:MM\"",
        ),
        (
            s.every(1).day().at("10:61").do_(job),
            "minute 61 is not in 00-59",
        ),
        (
            s.every(1).day().at("ab").do_(job),
            "expected \"HH:MM:SS\" or \"HH:MM\"",
        ),
        (
            s.every(1).hour().at("10:30:00").do_(job),
            "expected \"MM:SS\" or \":MM\"",
        ),
        (s.every(1).minute().at("10").do_(job), "expected \":SS\""),
        (
            s.every(1).hour().at("99:99").do_(job),
            "invalid time \"99:99\" for an hourly job",
        ),
        (
            s.every(u32::MAX).weeks().do_(job),
            "interval error: every(4294967295).weeks(): 4294967295 weeks from now is \
             after 9999-12-31, the last date clearloop can count to; give a shorter interval",
        ),
        (
            s.every(u32::MAX).hours().do_(job),
            "every(4294967295).hours(): 4294967295 hours from now is after 9999-12-31",
        ),
        (
            s.every(1).to(u32::MAX).days().do_(job),
            "every(1).days(): 4294967295 days from now is after 9999-12-31",
        ),
        (
            s.every(1)
                .day()
                .at("10:30")
                .in_zone("Europe/Pariss")
                .do_(job),
            "unknown time zone \"Europe/Pariss\"",
        ),
        (
            s.every(10).to(5).seconds().do_(job),
            "every(10).to(5): the upper bound must be at least",
        ),
        (
            s.every(1).hour().until("2026-11-23 08:00").do_(job),
            "until 2026-11-23 08:00:00, but it is already 2026-11-23 09:00:00",
        ),
        (
            s.every(1).hour().until("tomorrow").do_(job),
            "invalid until(\"tomorrow\")",
        ),
    ];
    for (result, expected) in cases {
        let message = result.expect_err(expected).to_string();
        assert!(
            message.contains(expected),
            "{message:?} should contain {expected:?}"
        );
    }
    assert!(
        s.get_jobs().is_empty(),
        "a failed description schedules nothing"
    );
    // The longest intervals that still fit are accepted, and not clamped.
    let long = s.every(u32::MAX).seconds().do_(job).unwrap();
    assert_eq!(show(&long.next_run().unwrap()), "2162-12-30 15:28:15 CET");
    let weeks = s.every(400_000).weeks().do_(job).unwrap();
    assert_eq!(show(&weeks.next_run().unwrap()), "9693-01-12 09:00:00 CET");
}

#[test]
fn job_display_is_python_repr() {
    let (clock, s) = monday();
    let ten = s.every(10).minutes().do_(job).unwrap();
    assert_eq!(
        ten.to_string(),
        "Every 10 minutes do job() (last run: [never], next run: 2026-11-23 09:10:00)"
    );
    let daily = s
        .every(1)
        .day()
        .at("10:30")
        .do_named("backup", || ())
        .unwrap();
    assert_eq!(
        daily.to_string(),
        "Every 1 day at 10:30:00 do backup() (last run: [never], next run: 2026-11-23 10:30:00)"
    );
    let weekly = s.every(1).wednesday().at("13:15").do_(job).unwrap();
    assert_eq!(
        weekly.to_string(),
        "Every 1 week on Wednesday at 13:15:00 do job() (last run: [never], next run: 2026-11-25 13:15:00)"
    );
    let random = s.every(1).to(5).seconds().do_(job).unwrap();
    assert!(random.to_string().starts_with(
        "Every 1 to 5 seconds do job() (last run: [never], next run: 2026-11-23 09:00:0"
    ));
    let closure = s.every(1).hour().do_(|| ()).unwrap();
    assert!(
        closure
            .to_string()
            .starts_with("Every 1 hour do closure() ")
    );
    go(&clock, "2026-11-23 09:10:00");
    s.run_pending();
    assert_eq!(
        ten.to_string(),
        "Every 10 minutes do job() (last run: 2026-11-23 09:10:00, next run: 2026-11-23 09:20:00)"
    );
    s.cancel_job(&ten);
    assert!(ten.to_string().contains("(cancelled)"));
}

#[test]
fn run_pending_runs_due_jobs_in_order() {
    let (clock, s) = monday();
    let order = Arc::new(Mutex::new(Vec::new()));
    for (name, minutes) in [("b", 20), ("a", 10), ("c", 30)] {
        let order = order.clone();
        s.every(minutes)
            .minutes()
            .do_(move || order.lock().unwrap().push(name))
            .unwrap();
    }
    go(&clock, "2026-11-23 09:09:59");
    s.run_pending();
    assert!(order.lock().unwrap().is_empty());
    go(&clock, "2026-11-23 09:30:00");
    s.run_pending();
    // Each due job once, earliest next run first.
    assert_eq!(*order.lock().unwrap(), ["a", "b", "c"]);
}

#[test]
fn no_catch_up_storm_after_a_long_pause() {
    for (policy, expected_next) in [
        (DriftPolicy::Grid, "2026-11-23 11:40:00 CET"),
        (DriftPolicy::FromFinish, "2026-11-23 11:45:00 CET"),
    ] {
        let (clock, s) = monday();
        s.set_drift_policy(policy);
        let (runs, record) = recorder(&clock);
        let job = s.every(10).minutes().do_(record).unwrap();
        // Due at 09:10; nobody calls run_pending until 11:35 (14 slots missed).
        go(&clock, "2026-11-23 11:35:00");
        s.run_pending();
        s.run_pending();
        assert_eq!(
            *runs.lock().unwrap(),
            ["2026-11-23 11:35:00 CET"],
            "{policy:?}"
        );
        assert_eq!(next(&job), expected_next, "{policy:?}");
    }
}

#[test]
fn grid_does_not_drift_and_from_finish_does() {
    for (policy, expected) in [
        (
            DriftPolicy::Grid,
            [
                "2026-11-23 09:10:00 CET",
                "2026-11-23 09:20:00 CET",
                "2026-11-23 09:30:00 CET",
            ],
        ),
        (
            DriftPolicy::FromFinish,
            [
                "2026-11-23 09:10:00 CET",
                "2026-11-23 09:20:02 CET",
                "2026-11-23 09:30:04 CET",
            ],
        ),
    ] {
        let (clock, s) = monday();
        s.set_drift_policy(policy);
        let runs = Arc::new(Mutex::new(Vec::new()));
        let (log, job_clock) = (runs.clone(), clock.clone());
        // The job takes 2 s of (virtual) time.
        s.every(10)
            .minutes()
            .do_(move || {
                log.lock().unwrap().push(show(&job_clock.zoned_now()));
                job_clock.advance(Duration::from_secs(2));
            })
            .unwrap();
        // The course's loop: run_pending, sleep 1 s.
        while runs.lock().unwrap().len() < 3 {
            s.run_pending();
            clock.sleep(Duration::from_secs(1));
        }
        assert_eq!(*runs.lock().unwrap(), expected, "{policy:?}");
    }
}

#[test]
fn to_stays_within_its_bounds() {
    let (clock, s) = monday();
    s.seed(7);
    let (runs, record) = recorder(&clock);
    let job = s.every(5).to(10).seconds().do_(record).unwrap();
    let mut gaps = std::collections::BTreeSet::new();
    let mut previous = clock.timestamp_now();
    for _ in 0..300 {
        let next = job.next_run().unwrap().timestamp();
        let gap = next.duration_since(previous).as_secs();
        assert!((5..=10).contains(&gap), "gap of {gap} s");
        gaps.insert(gap);
        clock.advance(Duration::try_from(next.duration_since(clock.timestamp_now())).unwrap());
        s.run_pending();
        previous = next;
    }
    assert_eq!(runs.lock().unwrap().len(), 300);
    // Every value of 5..=10 came up: the interval really is drawn.
    assert_eq!(gaps.into_iter().collect::<Vec<_>>(), [5, 6, 7, 8, 9, 10]);
}

#[test]
fn until_in_its_three_forms() {
    use clearloop::schedule::Until;
    type MakeUntil = fn() -> Until;
    let forms: [(&str, MakeUntil); 6] = [
        ("a zoned date-time", || {
            date(2026, 11, 23)
                .at(9, 35, 0, 0)
                .in_tz("Europe/Paris")
                .unwrap()
                .into()
        }),
        ("a civil date-time", || {
            date(2026, 11, 23).at(9, 35, 0, 0).into()
        }),
        ("a time today", || time(9, 35, 0, 0).into()),
        ("a duration", || Duration::from_secs(35 * 60).into()),
        ("date-time text", || "2026-11-23 09:35".into()),
        ("time text", || "09:35".into()),
    ];
    for (form, until) in forms {
        let (clock, s) = monday();
        let reports = Arc::new(Mutex::new(Vec::new()));
        let log = reports.clone();
        s.on_report(move |r| log.lock().unwrap().push(r.to_string()));
        let (runs, record) = recorder(&clock);
        s.every(10).minutes().until(until()).do_(record).unwrap();
        for _ in 0..120 {
            clock.advance(Duration::from_secs(60));
            s.run_pending();
        }
        // Runs at 09:10, 09:20, 09:30; the next slot, 09:40, is past 09:35.
        assert_eq!(
            *runs.lock().unwrap(),
            [
                "2026-11-23 09:10:00 CET",
                "2026-11-23 09:20:00 CET",
                "2026-11-23 09:30:00 CET"
            ],
            "until as {form}"
        );
        assert!(s.get_jobs().is_empty(), "until as {form}: the job is gone");
        let reports = reports.lock().unwrap();
        assert!(
            reports
                .last()
                .unwrap()
                .contains("cancelled: Every 10 minutes do closure()")
                && reports.last().unwrap().ends_with("it is past its until()"),
            "until as {form}: {reports:?}"
        );
    }
}

#[test]
fn until_checked_before_running() {
    // Python checks `until` before running too: a job that is due but already past
    // its until (run_pending was called late) is cancelled without running.
    let (clock, s) = monday();
    let (runs, record) = recorder(&clock);
    s.every(1)
        .hour()
        .until(Duration::from_secs(90 * 60))
        .do_(record)
        .unwrap();
    go(&clock, "2026-11-23 11:00:00");
    s.run_pending();
    assert!(runs.lock().unwrap().is_empty());
    assert!(s.get_jobs().is_empty());
}

#[test]
fn tags_select_jobs() {
    let (_clock, s) = monday();
    let a = s
        .every(1)
        .hour()
        .tag("daily-tasks")
        .tag("friend")
        .do_(job)
        .unwrap();
    let b = s.every(1).day().do_(job).unwrap().tag("daily-tasks");
    let c = s.every(1).minute().tag("other").do_(job).unwrap();
    assert_eq!(a.tags(), ["daily-tasks", "friend"]);
    assert_eq!(s.get_jobs_tagged("daily-tasks"), [a.clone(), b.clone()]);
    assert_eq!(s.get_jobs_tagged("friend"), std::slice::from_ref(&a));
    assert!(s.get_jobs_tagged("nobody").is_empty());
    s.clear_tagged("daily-tasks");
    assert_eq!(s.get_jobs(), [c]);
    s.clear();
    assert!(s.get_jobs().is_empty());
    assert!(!a.is_scheduled() && !b.is_scheduled());
}

#[test]
fn a_job_can_cancel_itself() {
    let (clock, s) = monday();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let job = s
        .every(1)
        .minute()
        .do_(move || {
            // Python's `return schedule.CancelJob`, on the third run.
            (counter.fetch_add(1, Ordering::SeqCst) == 2).then_some(CancelJob)
        })
        .unwrap();
    for _ in 0..10 {
        clock.advance(Duration::from_secs(60));
        s.run_pending();
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert!(!job.is_scheduled());
}

#[test]
fn cancel_job_and_run_all() {
    let (clock, s) = monday();
    let (runs, record) = recorder(&clock);
    let kept = s.every(1).hour().do_(record).unwrap();
    let gone = s.every(1).minute().do_(job).unwrap();
    assert!(s.cancel_job(&gone));
    assert!(!s.cancel_job(&gone), "twice: nothing left to cancel");
    assert_eq!(s.get_jobs(), std::slice::from_ref(&kept));
    // run_all runs every job now, due or not, and reschedules it.
    s.run_all(Duration::ZERO);
    assert_eq!(*runs.lock().unwrap(), ["2026-11-23 09:00:00 CET"]);
    assert_eq!(next(&kept), "2026-11-23 10:00:00 CET");
    let _ = clock;
}

/// Python's `run_all(delay_seconds)` sleeps after every job, the last included
/// (`for job in self.jobs[:]: self._run_job(job); time.sleep(delay_seconds)`):
/// five jobs with a delay of 1 s leave the clock 5 s later.
#[test]
fn run_all_waits_its_delay_after_every_job_the_last_included() {
    let (clock, s) = monday();
    let (runs, record) = recorder(&clock);
    let record = Arc::new(Mutex::new(record));
    for _ in 0..5 {
        let record = record.clone();
        s.every(1)
            .hour()
            .do_(move || (record.lock().unwrap())())
            .unwrap();
    }
    let before = clock.now();
    s.run_all(Duration::from_secs(1));
    assert_eq!(clock.now() - before, Duration::from_secs(5));
    assert_eq!(
        *runs.lock().unwrap(),
        [
            "2026-11-23 09:00:00 CET",
            "2026-11-23 09:00:01 CET",
            "2026-11-23 09:00:02 CET",
            "2026-11-23 09:00:03 CET",
            "2026-11-23 09:00:04 CET",
        ]
    );
    // No job: no wait, as Python's loop over an empty list.
    s.clear();
    s.run_all(Duration::from_secs(1));
    assert_eq!(clock.now() - before, Duration::from_secs(5));
}

#[test]
fn idle_seconds_and_next_run() {
    let (clock, s) = monday();
    assert_eq!(s.idle_seconds(), None);
    assert_eq!(s.next_run(), None);
    s.every(1).day().at("10:30").do_(job).unwrap();
    let ten = s.every(10).minutes().do_(job).unwrap();
    assert_eq!(s.idle_seconds(), Some(600.0));
    assert_eq!(show(&s.next_run().unwrap()), "2026-11-23 09:10:00 CET");
    go(&clock, "2026-11-23 09:12:30");
    assert_eq!(
        s.idle_seconds(),
        Some(-150.0),
        "overdue: negative, as in Python"
    );
    s.cancel_job(&ten);
    assert_eq!(s.idle_seconds(), Some(4650.0));
    s.clear();
    assert_eq!(s.idle_seconds(), None);
}

#[test]
fn daily_job_across_spring_forward() {
    // Saturday 2027-03-27; on Sunday 28 Paris skips from 02:00 to 03:00.
    let (clock, s) = start_at(2027, 3, 27, 9);
    let (runs, record) = recorder(&clock);
    s.every(1).day().at("02:30").do_(record).unwrap();
    let (hourly_runs, hourly) = recorder(&clock);
    s.every(1).hour().do_(hourly).unwrap();
    for _ in 0..(3 * 24 * 60) {
        clock.advance(Duration::from_secs(60));
        s.run_pending();
    }
    // 02:30 does not exist on the 28th: the job runs at 03:30 CEST, then back at 02:30.
    assert_eq!(
        *runs.lock().unwrap(),
        [
            "2027-03-28 03:30:00 CEST",
            "2027-03-29 02:30:00 CEST",
            "2027-03-30 02:30:00 CEST"
        ]
    );
    // Hours are lengths of time: 72 runs in 72 hours, across the change.
    let hourly = hourly_runs.lock().unwrap();
    assert_eq!(hourly.len(), 72);
    assert_eq!(
        hourly[15..18],
        [
            "2027-03-28 01:00:00 CET",
            "2027-03-28 03:00:00 CEST",
            "2027-03-28 04:00:00 CEST"
        ]
    );
}

#[test]
fn daily_job_across_fall_back() {
    // Saturday 2027-10-30; on Sunday 31 Paris goes from 03:00 back to 02:00.
    let (clock, s) = start_at(2027, 10, 30, 9);
    let (runs, record) = recorder(&clock);
    s.every(1).day().at("02:30").do_(record).unwrap();
    let (hourly_runs, hourly) = recorder(&clock);
    s.every(1).hour().do_(hourly).unwrap();
    for _ in 0..(3 * 24 * 60) {
        clock.advance(Duration::from_secs(60));
        s.run_pending();
    }
    // 02:30 happens twice on the 31st: the job runs once, at the first (CEST).
    assert_eq!(
        *runs.lock().unwrap(),
        [
            "2027-10-31 02:30:00 CEST",
            "2027-11-01 02:30:00 CET",
            "2027-11-02 02:30:00 CET"
        ]
    );
    let hourly = hourly_runs.lock().unwrap();
    assert_eq!(hourly.len(), 72);
    assert_eq!(
        hourly[16..19],
        [
            "2027-10-31 02:00:00 CEST",
            "2027-10-31 02:00:00 CET",
            "2027-10-31 03:00:00 CET"
        ]
    );
}

#[test]
fn a_job_in_another_zone() {
    // The clock reads Paris; the job runs at 10:30 in New York (16:30 in Paris).
    let (clock, s) = monday();
    let (runs, record) = recorder(&clock);
    let job = s
        .every(1)
        .day()
        .at("10:30")
        .in_zone("America/New_York")
        .do_(record)
        .unwrap();
    assert_eq!(
        show(
            &job.next_run()
                .unwrap()
                .with_time_zone(jiff::tz::TimeZone::get("America/New_York").unwrap())
        ),
        "2026-11-23 10:30:00 EST"
    );
    go(&clock, "2026-11-23 16:30:00");
    s.run_pending();
    assert_eq!(*runs.lock().unwrap(), ["2026-11-23 16:30:00 CET"]);
}
