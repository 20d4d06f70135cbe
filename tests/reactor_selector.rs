//! The selector is chosen once per process: epoll on Linux, `poll(2)` with
//! `CLEARLOOP_SELECTOR=poll`, and a name it does not know is refused with a message
//! that says what it knows (a typo must not silently test the other path). Each
//! case runs this binary again, as a child with the variable set.

use std::process::Command;

mod common;

/// Runs the ignored test `name` of this binary in a child with
/// `CLEARLOOP_SELECTOR=value`; its output.
fn run_with(name: &str, value: &str) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--ignored", "--nocapture"])
        .env("CLEARLOOP_SELECTOR", value)
        .output()
        .expect("the test binary runs again")
}

#[test]
#[cfg(target_os = "linux")] // epoll and poll(2) are Linux's selectors (poll: every Unix)
fn poll_is_chosen_by_the_environment_and_serves_an_echo() {
    let output = run_with("child_echo_reports_its_selector", "poll");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("selector: Poll"), "{stdout}");
    let output = run_with("child_echo_reports_its_selector", "epoll");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("selector: Epoll"), "{stdout}");
}

#[test]
#[cfg(windows)]
fn iocp_is_the_default_on_windows_and_serves_an_echo() {
    let output = run_with("child_echo_reports_its_selector", "");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("selector: Iocp"), "{stdout}");
    // poll(2) is a Unix selector: asked for on Windows, it is refused by name.
    let output = run_with("child_echo_reports_its_selector", "poll");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("\"iocp\" (Windows)"));
}

#[test]
fn an_unknown_selector_is_refused_by_name() {
    let output = run_with("child_echo_reports_its_selector", "kqeue");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("CLEARLOOP_SELECTOR=\"kqeue\"") && stderr.contains("\"poll\""),
        "{stderr}"
    );
}

#[test]
#[ignore = "run by the tests above, in a child process"]
fn child_echo_reports_its_selector() {
    clearloop::run(async {
        let (mut a, mut b) = common::stream_pair();
        let echo = clearloop::spawn(async move {
            let mut buf = [0; 4];
            a.read_exact(&mut buf).await.unwrap();
            a.write_all(&buf).await.unwrap();
        });
        clearloop::task::yield_now().await; // the echo waits in the reactor
        b.write_all(b"ping").await.unwrap();
        let mut back = [0; 4];
        b.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"ping");
        echo.await;
    });
    println!("selector: {:?}", clearloop::reactor::selector_kind());
}
