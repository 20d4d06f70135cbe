//! Accepting: one `accept4` per connection (the socket comes non-blocking and
//! close-on-exec, no `ioctl` after it), and out of file descriptors, an error that
//! keeps its errno and a one-second pause before the listener's next try (asyncio's
//! `ACCEPT_RETRY_DELAY`), on the virtual clock.
//!
//! Tests that lower the process's descriptor limit, or count its system calls, run
//! in a child process of their own (this binary, re-run on one test): a limit is
//! process-wide and must not reach the other tests.
#![cfg(unix)] // descriptor limits (rlimit), fcntl flags and `exec`: Unix's

use std::io::{BufRead, BufReader};
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::time::Duration;

use clearloop::clock::Clock;
use clearloop::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use clearloop::time::now;
use rustix::io::{Errno, FdFlags};
use rustix::process::{Resource, Rlimit};

mod common;

/// The file status flags of `fd` (`fcntl(F_GETFL)`), read from `/proc/self/fdinfo`.
fn status_flags(fd: impl AsFd) -> u32 {
    use std::os::fd::AsRawFd;
    let info =
        std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_fd().as_raw_fd())).unwrap();
    let flags = info
        .lines()
        .find_map(|line| line.strip_prefix("flags:"))
        .expect("fdinfo has a flags line");
    u32::from_str_radix(flags.trim(), 8).unwrap()
}

/// `O_NONBLOCK` on Linux (x86-64 and aarch64 alike).
const O_NONBLOCK: u32 = 0o4000;

fn assert_nonblocking_and_cloexec(fd: impl AsFd + Copy, what: &str) {
    assert_ne!(status_flags(fd) & O_NONBLOCK, 0, "{what} is blocking");
    let fd_flags = rustix::io::fcntl_getfd(fd).unwrap();
    assert!(
        fd_flags.contains(FdFlags::CLOEXEC),
        "{what} is not close-on-exec"
    );
}

#[test]
fn accepted_sockets_are_nonblocking_and_close_on_exec() {
    clearloop::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) =
            futures_util::future::join(TcpStream::connect(addr), listener.accept()).await;
        let (accepted, peer) = accepted.unwrap();
        assert_eq!(peer, client.unwrap().local_addr().unwrap());
        assert_nonblocking_and_cloexec(&accepted, "an accepted TCP socket");

        let dir = std::env::temp_dir().join(format!("clearloop-accept-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let (client, accepted) =
            futures_util::future::join(UnixStream::connect(&path), listener.accept()).await;
        client.unwrap();
        assert_nonblocking_and_cloexec(&accepted.unwrap(), "an accepted Unix socket");
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

/// The accepting side of the system-call test: ten connections accepted and closed.
fn accept_ten() {
    clearloop::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<_> = (0..10)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        for _ in 0..10 {
            drop(listener.accept().await.unwrap());
        }
        drop(clients);
    });
}

#[test]
fn accept_sets_the_flags_in_the_one_system_call() {
    const CHILD: &str = "CLEARLOOP_TEST_ACCEPT4_CHILD";
    if std::env::var_os(CHILD).is_some() {
        return accept_ten();
    }
    let trace = std::env::temp_dir().join(format!("clearloop-accept4-{}.txt", std::process::id()));
    let trace_arg = trace.to_str().unwrap();
    let strace = ["strace", "-f", "-e", "trace=accept4,ioctl", "-o", trace_arg];
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("strace is not installed: counted by the flags test only");
        return;
    }
    common::in_own_process(
        "accept_sets_the_flags_in_the_one_system_call",
        CHILD,
        &strace,
    );
    let calls = std::fs::read_to_string(&trace).unwrap();
    std::fs::remove_file(&trace).unwrap();
    let accepts = calls
        .lines()
        .filter(|line| line.contains("accept4(") && line.contains("SOCK_NONBLOCK"))
        .filter(|line| !line.contains("= -1"))
        .count();
    let fionbio = calls
        .lines()
        .filter(|line| line.contains("FIONBIO"))
        .count();
    assert_eq!(accepts, 10, "{calls}");
    // The listener is made non-blocking once (`from_std`); no connection is.
    assert!(
        fionbio <= 1,
        "an ioctl(FIONBIO) per accepted socket:\n{calls}"
    );
}

/// Lowers this process's soft descriptor limit to `limit`, and opens `/dev/null`
/// until no descriptor is left; returns the files, to free one at will.
fn use_every_descriptor(limit: u64) -> Vec<std::fs::File> {
    let hard = rustix::process::getrlimit(Resource::Nofile).maximum;
    let lowered = Rlimit {
        current: Some(limit),
        maximum: hard,
    };
    rustix::process::setrlimit(Resource::Nofile, lowered).unwrap();
    let mut files = Vec::new();
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(file) => files.push(file),
            Err(error) if error.raw_os_error() == Some(Errno::MFILE.raw_os_error()) => {
                return files;
            }
            Err(error) => panic!("opening /dev/null: {error}"),
        }
    }
}

fn out_of_descriptors_then_a_pause() {
    let runtime = clearloop::Builder::new()
        .clock(Clock::virtual_clock())
        .build();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // Two connections queued in the kernel, waiting for an accept.
        let _clients = [
            std::net::TcpStream::connect(addr).unwrap(),
            std::net::TcpStream::connect(addr).unwrap(),
        ];
        let mut files = use_every_descriptor(64);
        let start = now();

        // Out of descriptors: the error comes at once, and keeps its errno.
        let error = listener.accept().await.unwrap_err();
        assert_eq!(now(), start, "the error is returned at once");
        let text = error.to_string();
        assert!(text.starts_with(&format!("accept on {addr}: ")), "{text}");
        assert!(text.contains("1 s"), "the message says the pause: {text}");

        // Still out: the next accept waited the pause first (asyncio's 1 s), then
        // failed again; without the pause, this loop would spin.
        let again = listener.accept().await.unwrap_err();
        assert_eq!(now() - start, Duration::from_secs(1), "{again}");

        // A descriptor is freed: the accept after the pause takes the connection.
        drop(files.pop());
        let (stream, _) = listener.accept().await.unwrap();
        assert_eq!(now() - start, Duration::from_secs(2));
        // A success ends the pause: the next accept tries at once.
        drop(files.pop());
        let (_second, _) = listener.accept().await.unwrap();
        assert_eq!(now() - start, Duration::from_secs(2));
        drop((stream, files));

        // Both errors kept the OS's errno (EMFILE has no ErrorKind of its own).
        for error in [error, again] {
            assert_eq!(
                error.raw_os_error(),
                Some(Errno::MFILE.raw_os_error()),
                "{error:?}"
            );
        }
    });
}

#[test]
fn out_of_descriptors_accept_reports_emfile_and_pauses_one_second() {
    const CHILD: &str = "CLEARLOOP_TEST_EMFILE_CHILD";
    if std::env::var_os(CHILD).is_some() {
        return out_of_descriptors_then_a_pause();
    }
    common::in_own_process(
        "out_of_descriptors_accept_reports_emfile_and_pauses_one_second",
        CHILD,
        &[],
    );
}

/// The server of the CPU measurement: `ulimit -n 64`, then the accept loop the docs
/// show (log the error, accept again), holding every connection it takes.
fn emfile_server() {
    let limit = Rlimit {
        current: Some(64),
        maximum: rustix::process::getrlimit(Resource::Nofile).maximum,
    };
    rustix::process::setrlimit(Resource::Nofile, limit).unwrap();
    clearloop::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        println!("port {}", listener.local_addr().unwrap().port());
        let mut held = Vec::new();
        loop {
            match listener.accept().await {
                Ok((stream, _)) => held.push(stream),
                Err(error) => eprintln!("server: {error} ({} held)", held.len()),
            }
        }
    });
}

/// utime + stime of process `pid`, from `/proc/PID/stat` (in clock ticks: 1/100 s).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// A measurement, not a test of behaviour (real time, real CPU): a server limited to
/// 64 descriptors, 200 clients, and the CPU the server burns meanwhile. Run:
/// `cargo test --release --test net_accept -- --ignored --nocapture cpu_under_emfile`.
#[test]
#[ignore = "a measurement on the real clock; run it by name"]
fn cpu_under_emfile() {
    const CHILD: &str = "CLEARLOOP_TEST_EMFILE_SERVER";
    if std::env::var_os(CHILD).is_some() {
        return emfile_server();
    }
    let mut server = Command::new(std::env::current_exe().unwrap())
        .args(["cpu_under_emfile", "--exact", "--nocapture", "--ignored"])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let port: u16 = lines
        .find_map(|line| line.unwrap().strip_prefix("port ").map(str::to_owned))
        .expect("the server says its port")
        .parse()
        .unwrap();
    let clients: Vec<_> = (0..200)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let (ticks, start) = (cpu_ticks(server.id()), std::time::Instant::now());
    std::thread::sleep(Duration::from_secs(5));
    let used = (cpu_ticks(server.id()) - ticks) as f64 / 100.0;
    let percent = 100.0 * used / start.elapsed().as_secs_f64();
    server.kill().unwrap();
    server.wait().unwrap();
    drop(clients);
    println!("server CPU under EMFILE, 200 clients, ulimit -n 64: {percent:.1} % of a core");
    assert!(percent <= 5.0, "{percent:.1} % of a core");
}
