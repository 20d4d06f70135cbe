//! The Worker pattern: start once, join reports a panic, the OS thread has the name.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use clearloop::threads::{Thread, ThreadError, Worker};

struct Counting {
    name: &'static str,
    runs: Arc<AtomicUsize>,
}

impl Worker for Counting {
    fn name(&self) -> String {
        self.name.to_string()
    }
    fn run(&mut self) {
        self.runs.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn starting_twice_is_an_error_and_runs_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let t = Thread::new(Counting {
        name: "T1",
        runs: runs.clone(),
    });
    assert_eq!(
        t.join(),
        Err(ThreadError::NotStarted {
            thread: "T1".into()
        })
    );
    t.start().unwrap();
    let again = t.start().unwrap_err();
    assert_eq!(
        again,
        ThreadError::AlreadyStarted {
            thread: "T1".into()
        }
    );
    assert!(
        again
            .to_string()
            .contains("threads can only be started once"),
        "{again}"
    );
    t.join().unwrap();
    // Still refused after the thread ended, as in Python.
    assert!(t.start().is_err());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

struct Panics;

impl Worker for Panics {
    fn name(&self) -> String {
        "boom-thread".into()
    }
    fn run(&mut self) {
        panic!("division by zero");
    }
}

#[test]
fn join_reports_the_panic_of_run() {
    let t = Thread::new(Panics);
    t.start().unwrap();
    let error = t.join().unwrap_err();
    assert_eq!(
        error,
        ThreadError::Panicked {
            thread: "boom-thread".into(),
            message: "division by zero".into()
        }
    );
    // A second join answers the same, it does not forget.
    assert_eq!(t.join().unwrap_err(), error);
    assert!(!t.is_alive());
}

/// Waits in `run()` until the test lets it go, and reports what the OS sees.
struct Named {
    name: &'static str,
    seen: mpsc::Sender<Option<String>>,
    release: mpsc::Receiver<()>,
}

impl Worker for Named {
    fn name(&self) -> String {
        self.name.to_string()
    }
    fn run(&mut self) {
        let _ = self
            .seen
            .send(std::thread::current().name().map(str::to_string));
        let _ = self.release.recv();
    }
}

#[test]
fn the_os_thread_carries_the_name_and_is_alive_while_running() {
    let (seen_tx, seen_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let t = Thread::new(Named {
        name: "T2-named",
        seen: seen_tx,
        release: release_rx,
    });
    assert!(!t.is_alive());
    t.start().unwrap();
    assert_eq!(
        seen_rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        Some("T2-named".to_string())
    );
    assert!(t.is_alive());
    assert_eq!(t.name(), "T2-named");
    // What the kernel knows (Linux): one of our threads is called T2-named. Linux
    // only: under Wine the path would list the threads of the Linux process behind
    // it, which Wine 8 does not name after the Windows thread's description.
    #[cfg(target_os = "linux")]
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        let names: Vec<String> = tasks
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
            .map(|comm| comm.trim().to_string())
            .collect();
        assert!(names.iter().any(|n| n == "T2-named"), "{names:?}");
    }
    release_tx.send(()).unwrap();
    t.join().unwrap();
    assert!(!t.is_alive());
    assert!(format!("{t:?}").contains("stopped"));
}
