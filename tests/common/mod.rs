//! Helpers shared by the test files: a waker that counts its wake-ups, polling by
//! hand, a virtual-clock runtime, a flag that shows when a future is dropped, a
//! future that notes which threads wake it, and a tiny deterministic random generator.
#![allow(dead_code)] // each test file uses a different subset

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use clearloop::clock::Clock;
use clearloop::{Builder, Runtime};

/// A waker that counts how many times it was woken.
pub struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A fresh counting waker and the counter behind it.
pub fn counting_waker() -> (Waker, Arc<Counter>) {
    let counter = Arc::new(Counter(AtomicUsize::new(0)));
    (Waker::from(counter.clone()), counter)
}

impl Counter {
    /// How many wake-ups so far.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Polls `future` once with `waker`.
pub fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// A runtime on the virtual clock: sleeps take no real time and measure exactly.
pub fn virtual_runtime() -> Runtime {
    Builder::new().clock(Clock::virtual_clock()).build()
}

/// Flips its flag when dropped: shows when a future is dropped (cancelled).
pub struct DropFlag(pub Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// xorshift64*: deterministic, so a failure can be replayed from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Runs `body` on its own thread and returns its value, or panics if it has not
/// finished after `limit` of real time. A guard against a hang (a test that would
/// otherwise never end), not a way to measure time: the body itself runs on a
/// virtual clock.
pub fn finishes_within<T: Send + 'static>(
    limit: std::time::Duration,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = tx.send(body());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => {
            let _ = thread.join();
            value
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: re-raise its panic here.
            match thread.join() {
                Err(payload) => std::panic::resume_unwind(payload),
                Ok(()) => unreachable!("the body sent nothing and did not panic"),
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("still running after {limit:?}: the runtime hangs")
        }
    }
}

/// A value whose `Drop` panics: a task's output that nobody can drop quietly.
pub struct PanicsOnDrop(pub &'static str);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

/// Waits (real time, 10 s at most) until `done()`: for tests that must wait on
/// another thread (a background runner, a pool thread). The bound only turns a hang
/// into a failure; a passing test returns as soon as `done()` holds.
pub fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// A manual clock that reads Monday 2026-11-23 09:00 in Europe/Paris, and a
/// `schedule` scheduler on it: time moves only when the test advances it.
#[cfg(feature = "schedule")]
pub fn manual_monday() -> (Clock, clearloop::schedule::Scheduler) {
    let start = jiff::civil::date(2026, 11, 23)
        .at(9, 0, 0, 0)
        .in_tz("Europe/Paris")
        .unwrap();
    let clock = Clock::manual_in(&start);
    (
        clock.clone(),
        clearloop::schedule::Scheduler::with_clock(clock),
    )
}

/// The names of the threads that woke a future, in order (`"?"` for a thread with
/// no name): who heard the socket it waited on.
pub type WakingThreads = Arc<Mutex<Vec<String>>>;

/// Wraps `future` so that every wake of it is noted in `threads` before it is
/// passed on.
pub fn noting_wakers<F: Future>(future: F, threads: WakingThreads) -> OnWhichThread<F> {
    OnWhichThread {
        inner: Box::pin(future),
        threads,
    }
}

/// The future [`noting_wakers`] makes.
pub struct OnWhichThread<F> {
    inner: Pin<Box<F>>,
    threads: WakingThreads,
}

impl<F: Future> Future for OnWhichThread<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let waker = Waker::from(Arc::new(Noting {
            inner: cx.waker().clone(),
            threads: self.threads.clone(),
        }));
        self.inner.as_mut().poll(&mut Context::from_waker(&waker))
    }
}

/// Forwards every wake to the task's own waker, noting the waking thread's name.
struct Noting {
    inner: Waker,
    threads: WakingThreads,
}

impl Wake for Noting {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let name = std::thread::current().name().unwrap_or("?").to_string();
        self.threads.lock().unwrap().push(name);
        self.inner.wake_by_ref();
    }
}

/// Runs the test `name` of this test binary alone in a child process, with the
/// environment variable `env` set to "1" (the child test checks it, to know it is the
/// child) and under `wrapper` (`["strace", "-f", ...]`) if it is not empty; fails if
/// the child fails, or if it ran no test (a typo in `name`). For a test that counts
/// what the whole process holds, or changes its limits.
pub fn in_own_process(name: &str, env: &str, wrapper: &[&str]) -> std::process::Output {
    let exe = std::env::current_exe().unwrap();
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = std::process::Command::new(program);
            command.args(args).arg(exe);
            command
        }
        None => std::process::Command::new(exe),
    };
    let output = command
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(env, "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"));
    output
}

/// Whether the child `pid` was reaped: `waitid` without reaping (`WNOWAIT`) says it
/// is no child of ours any more (`ECHILD`); running or a zombie, it still is. Every
/// Unix has it, where `/proc` is Linux's.
#[cfg(unix)]
pub fn reaped(pid: u32) -> bool {
    use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
    let pid = Pid::from_raw(pid as i32).unwrap();
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    match waitid(WaitId::Pid(pid), options) {
        Err(rustix::io::Errno::CHILD) => true,
        Err(errno) => panic!("waitid({pid:?}): {errno}"),
        Ok(_) => false,
    }
}

/// `1204331` as `1,204,331`, as the trace's drawings write counts.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A connected pair of byte streams: a Unix socket pair, or on Windows (no Unix
/// sockets in clearloop there) two TCP sockets over loopback, as Python's
/// `socket.socketpair()` makes them on Windows.
#[cfg(unix)]
pub fn stream_pair() -> (clearloop::net::UnixStream, clearloop::net::UnixStream) {
    clearloop::net::UnixStream::pair().unwrap()
}

/// A connected pair of byte streams (see the Unix version): TCP over loopback.
#[cfg(windows)]
pub fn stream_pair() -> (clearloop::net::TcpStream, clearloop::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (b, _) = listener.accept().unwrap();
    let wrap = |s| clearloop::net::TcpStream::from_std(s).unwrap();
    (wrap(a), wrap(b))
}

/// Whether this Windows program runs under Wine rather than Windows: Wine's
/// `ntdll.dll` exports `wine_get_version`, Windows' does not (the check Wine's own
/// FAQ gives). For the few assertions where Wine is known to differ from
/// Microsoft's documentation: each says what Windows does, and what Wine does.
#[cfg(windows)]
pub fn under_wine() -> bool {
    use std::ffi::c_void;
    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn GetModuleHandleA(name: *const u8) -> *mut c_void;
        fn GetProcAddress(module: *mut c_void, name: *const u8) -> *mut c_void;
    }
    // SAFETY: both names are NUL-terminated literals; ntdll is loaded in every
    // Windows process, and a null module would only make GetProcAddress fail.
    unsafe {
        let ntdll = GetModuleHandleA(c"ntdll.dll".as_ptr().cast());
        !ntdll.is_null() && !GetProcAddress(ntdll, c"wine_get_version".as_ptr().cast()).is_null()
    }
}
