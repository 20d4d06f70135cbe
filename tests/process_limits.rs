//! `Command::spawn` out of file descriptors: the error names the program, keeps the
//! OS's errno (`EMFILE`) where the failing call gave one, and no child is left
//! behind, running or zombie.
//!
//! Each case lowers `RLIMIT_NOFILE` and fills the descriptor table, which would
//! break any test running beside it: every `#[ignore]`d `alone_*` test is run by
//! its parent test in a process of its own (this binary again, with
//! `PROCESS_LIMITS_ALONE` set).
#![cfg(unix)] // descriptor limits (rlimit) and pidfds: Unix's

use std::io::ErrorKind;
use std::os::fd::{AsFd, OwnedFd};
use std::process::Command as StdCommand;

use clearloop::process::Command;
use rustix::io::Errno;
use rustix::process::{Resource, Rlimit, WaitId, WaitIdOptions, getrlimit, setrlimit, waitid};

/// Runs the ignored test `name` of this binary in a process of its own.
fn run_alone(name: &str) {
    let output = StdCommand::new(std::env::current_exe().unwrap())
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PROCESS_LIMITS_ALONE", "1")
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} failed:\n{stdout}\n{stderr}"
    );
}

/// Called first by every `alone_*` test: it must not run beside other tests.
fn assert_alone() {
    assert!(
        std::env::var_os("PROCESS_LIMITS_ALONE").is_some(),
        "run by its parent test, in a process of its own"
    );
}

/// Fills the descriptor table (under a limit lowered to 256) but for `free`
/// descriptors; the returned ones hold the rest, until dropped.
fn leave_free(free: usize) -> Vec<OwnedFd> {
    let limit = getrlimit(Resource::Nofile);
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(256),
            maximum: limit.maximum,
        },
    )
    .unwrap();
    let mut held = Vec::new();
    loop {
        match std::io::stderr().as_fd().try_clone_to_owned() {
            Ok(fd) => held.push(fd),
            Err(error) if error.raw_os_error() == Some(EMFILE) => break,
            Err(error) => panic!("dup: {error}"),
        }
    }
    held.truncate(held.len() - free);
    held
}

const EMFILE: i32 = Errno::MFILE.raw_os_error();

/// No child at all, running or zombie: `waitid(P_ALL)` says `ECHILD` (without
/// reaping anything, `WNOWAIT`).
fn assert_no_child_left() {
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    match waitid(WaitId::All, options) {
        Err(Errno::CHILD) => {}
        other => panic!("a child was left behind: waitid says {other:?}"),
    }
}

#[test]
fn reactor_cannot_be_created_at_the_first_wait() {
    run_alone("alone_reactor_cannot_be_created_at_the_first_wait");
}

#[test]
#[ignore = "run by reactor_cannot_be_created_at_the_first_wait"]
fn alone_reactor_cannot_be_created_at_the_first_wait() {
    assert_alone();
    // Nothing made a reactor yet. Two descriptors: enough for the reaper's epoll
    // instance and the child's pidfd, so `spawn` succeeds (a runtime makes its
    // reactor at its first wait on I/O, not before); then the wait cannot make one
    // (an epoll instance and an eventfd).
    let mut held = Some(leave_free(2));
    clearloop::run(async move {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let error = child.wait().await.unwrap_err();
        let message = error.to_string();
        assert!(message.contains("`sleep`"), "{message}");
        assert_eq!(error.raw_os_error(), Some(EMFILE), "{message}");
        assert_eq!(
            error.kind(),
            std::io::Error::from_raw_os_error(EMFILE).kind()
        );
        // The child is still ours: once descriptors are back, it is killed and
        // waited for like any other.
        drop(held.take());
        child.kill().unwrap();
        assert!(!child.wait().await.unwrap().success());
    });
    assert_no_child_left();
}

#[test]
fn no_descriptor_for_the_pidfd() {
    run_alone("alone_no_descriptor_for_the_pidfd");
}

#[test]
#[ignore = "run by no_descriptor_for_the_pidfd"]
fn alone_no_descriptor_for_the_pidfd() {
    assert_alone();
    // The reactor and the reaper exist; then not one descriptor is left, and
    // `pidfd_open` fails after the OS spawn.
    let status = clearloop::run(async { Command::new("true").status().await.unwrap() });
    assert!(status.success());
    let held = leave_free(0);
    let error = Command::new("sleep").arg("30").spawn().unwrap_err();
    drop(held);
    let message = error.to_string();
    assert!(
        message.starts_with("cannot start `sleep`: it ran as pid "),
        "{message}"
    );
    assert_eq!(error.raw_os_error(), Some(EMFILE), "{message}");
    assert_eq!(
        error.kind(),
        std::io::Error::from_raw_os_error(EMFILE).kind()
    );
    assert_no_child_left();
}

#[test]
fn no_descriptor_for_the_reaper_before_the_os_spawn() {
    run_alone("alone_no_descriptor_for_the_reaper_before_the_os_spawn");
}

#[test]
#[ignore = "run by no_descriptor_for_the_reaper_before_the_os_spawn"]
fn alone_no_descriptor_for_the_reaper_before_the_os_spawn() {
    assert_alone();
    // First spawn of the process, not one descriptor free: the reaper's epoll
    // instance fails, before anything is started.
    let marker = std::env::temp_dir().join(format!("clearloop-limits-{}", std::process::id()));
    let held = leave_free(0);
    let error = Command::new("touch").arg(&marker).spawn().unwrap_err();
    drop(held);
    let message = error.to_string();
    assert!(message.starts_with("cannot start `touch`: "), "{message}");
    assert!(!message.contains("it ran"), "{message}");
    assert_eq!(error.raw_os_error(), Some(EMFILE), "{message}");
    assert_ne!(error.kind(), ErrorKind::NotFound);
    assert_no_child_left();
    assert!(!marker.exists(), "`touch` ran");
}
