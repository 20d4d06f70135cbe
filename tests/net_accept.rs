//! Accepting: one `accept4` per connection (the socket comes non-blocking and
//! close-on-exec, no `ioctl` after it).
//!
//! The test that counts system calls runs in a child process of its own (this
//! binary, re-run on one test, under `strace`).

use std::os::fd::AsFd;
use std::process::Command;

use clearloop::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use rustix::io::FdFlags;

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

/// Runs the test `name` of this binary alone in a child process with `env` set
/// (under `wrapper`, if given), and fails if it fails.
fn in_own_process(name: &str, env: &str, wrapper: &[&str]) -> std::process::Output {
    let exe = std::env::current_exe().unwrap();
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(exe);
            command
        }
        None => Command::new(exe),
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
    in_own_process(
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
