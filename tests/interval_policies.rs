//! `interval` on the virtual clock, to the exact millisecond: on time, and under each
//! missed-tick policy after the work between two ticks ran late.

use std::time::Duration;

use clearloop::Builder;
use clearloop::clock::Clock;
use clearloop::interval::{MissedTickPolicy, interval, interval_at};
use clearloop::time::{now, sleep};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Ticks every 100 ms; after the second tick the work takes 250 ms. Returns, for
/// each of six ticks, (the instant it was scheduled for, when it was taken), in ms.
fn late_ticks(policy: MissedTickPolicy) -> Vec<(u128, u128)> {
    let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    runtime.block_on(async move {
        let start = now();
        let mut every = interval(ms(100));
        every.set_missed_tick_policy(policy);
        assert_eq!(every.missed_tick_policy(), policy);
        let mut ticks = Vec::new();
        for i in 0..6 {
            let scheduled = every.tick().await;
            ticks.push(((scheduled - start).as_millis(), (now() - start).as_millis()));
            if i == 1 {
                sleep(ms(250)).await; // the work ran late: until 350
            }
        }
        ticks
    })
}

#[test]
fn grid_skips_the_missed_slots_and_stays_on_the_grid() {
    assert_eq!(
        late_ticks(MissedTickPolicy::Grid),
        [
            (0, 0),
            (100, 100),
            (200, 350),
            (400, 400),
            (500, 500),
            (600, 600)
        ]
    );
}

#[test]
fn from_finish_starts_a_new_grid_at_the_late_tick() {
    assert_eq!(
        late_ticks(MissedTickPolicy::FromFinish),
        [
            (0, 0),
            (100, 100),
            (200, 350),
            (450, 450),
            (550, 550),
            (650, 650)
        ]
    );
}

#[test]
fn catch_up_fires_every_missed_tick_at_once() {
    assert_eq!(
        late_ticks(MissedTickPolicy::CatchUp),
        [
            (0, 0),
            (100, 100),
            (200, 350),
            (300, 350),
            (400, 400),
            (500, 500)
        ]
    );
}

#[test]
fn the_default_is_grid() {
    assert_eq!(interval(ms(1)).missed_tick_policy(), MissedTickPolicy::Grid);
}

#[test]
fn work_shorter_than_the_period_does_not_drift() {
    let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    let taken = runtime.block_on(async {
        let start = now();
        let mut every = interval_at(start + ms(50), ms(100));
        let mut taken = Vec::new();
        for _ in 0..4 {
            every.tick().await;
            taken.push((now() - start).as_millis());
            sleep(ms(70)).await;
        }
        every.reset(); // at 420: next tick at 520
        every.tick().await;
        taken.push((now() - start).as_millis());
        taken
    });
    assert_eq!(taken, [50, 150, 250, 350, 520]);
}

#[test]
fn a_cancelled_tick_consumes_nothing() {
    let runtime = Builder::new().clock(Clock::virtual_clock()).build();
    let ticks = runtime.block_on(async {
        let start = now();
        let mut every = interval(ms(100));
        every.tick().await; // 0
        // Give up on the tick of 100 at 30 ms: it is still the next one.
        let gave_up = clearloop::timeout(ms(30), every.tick()).await;
        assert!(gave_up.is_err());
        let scheduled = every.tick().await;
        ((scheduled - start).as_millis(), (now() - start).as_millis())
    });
    assert_eq!(ticks, (100, 100));
}

#[test]
#[should_panic(expected = "the period must be longer than zero")]
fn a_zero_period_is_refused() {
    let _ = interval(Duration::ZERO);
}
