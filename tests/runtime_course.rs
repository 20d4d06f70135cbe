//! The course's asyncio examples, on the virtual clock: exact durations, no waiting.

mod common;
use common::virtual_runtime;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clearloop::spawn;
use clearloop::time::{now, sleep};

async fn print_message_long(
    log: Arc<Mutex<Vec<(Duration, &'static str)>>>,
    start: std::time::Instant,
) {
    sleep(Duration::from_secs(2)).await;
    log.lock()
        .unwrap()
        .push((now() - start, "Bienvenue en Python"));
}

#[test]
fn awaiting_one_after_the_other_takes_four_seconds() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let took = virtual_runtime().block_on(async {
        let start = now();
        print_message_long(log.clone(), start).await;
        print_message_long(log.clone(), start).await;
        now() - start
    });
    assert_eq!(took, Duration::from_secs(4));
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            (Duration::from_secs(2), "Bienvenue en Python"),
            (Duration::from_secs(4), "Bienvenue en Python")
        ]
    );
}

#[test]
fn two_tasks_take_two_seconds() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let took = virtual_runtime().block_on(async {
        let start = now();
        let t1 = spawn(print_message_long(log.clone(), start));
        let t2 = spawn(print_message_long(log.clone(), start));
        t1.await;
        t2.await;
        now() - start
    });
    assert_eq!(took, Duration::from_secs(2));
    assert_eq!(log.lock().unwrap().len(), 2);
    assert!(
        log.lock()
            .unwrap()
            .iter()
            .all(|(at, _)| *at == Duration::from_secs(2))
    );
}

#[test]
fn task_result_done_false_then_true() {
    virtual_runtime().block_on(async {
        let task = spawn(async {
            sleep(Duration::from_secs(2)).await;
            "Bienvenue en Python".to_string()
        });
        assert!(!task.done());
        assert!(task.result().unwrap_err().is_not_done());
        task.wait().await;
        assert!(task.done());
        assert_eq!(task.result().unwrap(), "Bienvenue en Python");
        // result() clones: it can be asked again.
        assert_eq!(task.result().unwrap(), "Bienvenue en Python");
    });
}
