//! Child processes: exit codes, output, piped input, kill, no zombie left by a
//! dropped child, errors that name the program and keep the OS's errno (a missing
//! program, a write to the stdin of a child that exited), and on the virtual clock
//! a child's wait holds time (a timeout does not fire on a child about to exit).
//! What reads `/proc` is Linux-only; the rest builds for macOS and the BSDs too.
//! Dropping many running children: `process_reaper.rs`; out of descriptors:
//! `process_limits.rs`.

//! On Windows (`windows` below) the same lessons run with `cmd` and `ping`; what
//! is Unix's own (signals, zombies, `sh`, `cat`, errno values) stays in `unix`.

mod common;

#[cfg(unix)]
mod unix {
    use std::io::ErrorKind;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    use super::common;
    use clearloop::clock::Clock;
    use clearloop::process::Command;
    use clearloop::{Builder, spawn, timeout};
    use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};

    #[test]
    fn exit_codes_and_output() {
        clearloop::run(async {
            let ok = Command::new("true").status().await.unwrap();
            assert!(ok.success());
            let three = Command::new("sh")
                .args(["-c", "exit 3"])
                .status()
                .await
                .unwrap();
            assert_eq!(three.code(), Some(3));
            let output = Command::new("sh")
                .args(["-c", "echo out; echo err >&2; exit 5"])
                .output()
                .await
                .unwrap();
            assert_eq!(output.status.code(), Some(5));
            assert_eq!(output.stdout, b"out\n");
            assert_eq!(output.stderr, b"err\n");
        });
    }

    #[test]
    fn piped_stdin_and_stdout_with_a_large_output() {
        let (echoed, counted) = clearloop::run(async {
            let mut cat = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = cat.stdin.take().unwrap();
            let mut stdout = cat.stdout.take().unwrap();
            // More than a pipe holds (64 KiB): writing and reading must overlap.
            let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
            let expected = data.clone();
            let writer = spawn(async move {
                stdin.write_all(&data).await.unwrap();
                // stdin drops here: cat sees the end of its input.
            });
            let mut echoed = Vec::new();
            stdout.read_to_end(&mut echoed).await.unwrap();
            writer.await;
            assert!(cat.wait().await.unwrap().success());
            (echoed == expected, echoed.len())
        });
        assert!(echoed);
        assert_eq!(counted, 1_000_000);
    }

    #[test]
    fn kill_then_wait_reports_the_signal() {
        use std::os::unix::process::ExitStatusExt;
        clearloop::run(async {
            let mut child = Command::new("sleep").arg("30").spawn().unwrap();
            assert!(child.id() > 0);
            child.kill().unwrap();
            let status = child.wait().await.unwrap();
            assert_eq!(status.signal(), Some(9));
            // Killing an exited, reaped child is not an error.
            child.kill().unwrap();
        });
    }

    /// Whether `pid` is a zombie (or gone: `None`). Linux only (`/proc`).
    #[cfg(target_os = "linux")]
    fn is_zombie(pid: u32) -> Option<bool> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let state = stat.rsplit_once(") ")?.1.chars().next()?;
        Some(state == 'Z')
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_dropped_child_never_stays_a_zombie() {
        let (exited, running) = clearloop::run(async {
            // One that has exited by the time it is dropped, one still running.
            let mut exited = Command::new("true").spawn().unwrap();
            let exited_pid = exited.id();
            let _ = timeout(Duration::from_secs(30), async {
                // Wait for the exit without reaping: poll /proc until it is a zombie.
                while is_zombie(exited_pid) == Some(false) {
                    clearloop::task::yield_now().await;
                }
            })
            .await;
            drop(exited.stdin.take());
            drop(exited);
            let mut running = Command::new("sleep").arg("0.2").spawn().unwrap();
            let running_pid = running.id();
            drop(running.stdout.take());
            drop(running);
            (exited_pid, running_pid)
        });
        // Reaped at drop: gone at once.
        assert_ne!(
            is_zombie(exited),
            Some(true),
            "the exited child was left a zombie"
        );
        // The running one is reaped by the reaper when it exits; give it a real-time limit.
        let limit = Instant::now() + Duration::from_secs(30);
        while is_zombie(running).is_some() && Instant::now() < limit {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            is_zombie(running),
            None,
            "the running child was never reaped"
        );
    }

    #[test]
    fn dropped_children_are_reaped_exited_or_running_on_every_system() {
        // Dropped after it exited, not yet reaped: `Drop` reaps it.
        let exited = Command::new("true").spawn().unwrap();
        let exited_pid = exited.id();
        let pid = Pid::from_raw(exited_pid as i32).unwrap();
        // Until it has exited, leaving it a zombie (`WNOWAIT`).
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT;
        waitid(WaitId::Pid(pid), options).unwrap();
        assert!(!common::reaped(exited_pid));
        drop(exited);
        assert!(
            common::reaped(exited_pid),
            "the exited child was left a zombie"
        );
        // Dropped while running: the reaper reaps it when it exits (a real-time wait,
        // with a generous limit for a loaded machine).
        let running = Command::new("sleep").arg("0.2").spawn().unwrap();
        let running_pid = running.id();
        drop(running);
        let limit = Instant::now() + Duration::from_secs(30);
        while !common::reaped(running_pid) {
            assert!(Instant::now() < limit, "the running child was never reaped");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_missing_program_is_a_clear_error_that_keeps_the_errno() {
        let error = Command::new("clearloop-no-such-program")
            .spawn()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert_eq!(error.raw_os_error(), Some(ENOENT));
        assert_eq!(
            error.to_string(),
            "cannot start `clearloop-no-such-program`: No such file or directory (os error 2)"
        );
        // Through `?` into an io::Error: kind and text kept, the errno one downcast away.
        let error = std::io::Error::from(error);
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert!(
            error.to_string().contains("`clearloop-no-such-program`"),
            "{error}"
        );
        assert_eq!(errno_inside(&error), Some(ENOENT));
    }

    const ENOENT: i32 = rustix::io::Errno::NOENT.raw_os_error();
    const EPIPE: i32 = rustix::io::Errno::PIPE.raw_os_error();

    /// The errno of the `process::Error` inside an io::Error (the documented way).
    fn errno_inside(error: &std::io::Error) -> Option<i32> {
        let inner = error
            .get_ref()?
            .downcast_ref::<clearloop::process::Error>()?;
        inner.raw_os_error()
    }

    #[test]
    fn writing_to_the_stdin_of_an_exited_child_says_whose_stdin() {
        clearloop::run(async {
            let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
            let mut stdin = child.stdin.take().unwrap();
            assert!(child.wait().await.unwrap().success());
            let pid = child.id();
            let error = stdin.write_all(b"too late").await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::BrokenPipe);
            assert_eq!(error.raw_os_error(), Some(EPIPE));
            assert_eq!(
                error.to_string(),
                format!(
                    "cannot write to the stdin of `true` (pid {pid}): Broken pipe (os error 32)"
                )
            );
            // The same through futures-io's AsyncWrite, whose error is an io::Error.
            use futures_util::AsyncWriteExt;
            let error = AsyncWriteExt::write_all(&mut stdin, b"too late")
                .await
                .unwrap_err();
            assert_eq!(error.kind(), ErrorKind::BrokenPipe);
            assert!(error.to_string().contains("stdin of `true`"), "{error}");
            assert_eq!(errno_inside(&error), Some(EPIPE));
        });
    }

    #[test]
    fn a_second_wait_returns_the_same_status() {
        clearloop::run(async {
            let mut child = Command::new("sh").args(["-c", "exit 4"]).spawn().unwrap();
            assert_eq!(child.wait().await.unwrap().code(), Some(4));
            assert_eq!(child.wait().await.unwrap().code(), Some(4));
        });
    }

    #[test]
    fn on_the_virtual_clock_a_child_holds_time_until_it_exits() {
        // The child takes 0.5 s of real time, longer than the reactor's grace: as a
        // job in flight, it still keeps the 1 s virtual timeout from firing.
        let runtime = Builder::new().clock(Clock::virtual_clock()).build();
        let (status, waited) = runtime.block_on(async {
            let start = clearloop::time::now();
            let status = timeout(
                Duration::from_secs(1),
                Command::new("sleep").arg("0.5").status(),
            )
            .await;
            (status, clearloop::time::now() - start)
        });
        assert!(status.expect("timed out").unwrap().success());
        assert_eq!(waited, Duration::ZERO);
    }
}

#[cfg(windows)]
mod windows {
    use std::io::ErrorKind;
    use std::process::Stdio;
    use std::time::Duration;

    use clearloop::clock::Clock;
    use clearloop::process::Command;
    use clearloop::{Builder, timeout};

    #[test]
    fn exit_codes_and_output() {
        clearloop::run(async {
            let three = Command::new("cmd")
                .args(["/c", "exit 3"])
                .status()
                .await
                .unwrap();
            assert_eq!(three.code(), Some(3));
            let output = Command::new("cmd")
                .args(["/c", "echo out& echo err 1>&2& exit 5"])
                .output()
                .await
                .unwrap();
            assert_eq!(output.status.code(), Some(5));
            assert_eq!(String::from_utf8_lossy(&output.stdout).trim_end(), "out");
            assert_eq!(String::from_utf8_lossy(&output.stderr).trim_end(), "err");
        });
    }

    /// `cmd` reads its commands from a piped stdin: what it echoes comes back on
    /// the piped stdout (both pipes on the pipes' pool).
    #[test]
    fn piped_stdin_and_stdout() {
        let out = clearloop::run(async {
            let mut cmd = Command::new("cmd")
                .args(["/q", "/k"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = cmd.stdin.take().unwrap();
            let mut stdout = cmd.stdout.take().unwrap();
            stdin
                .write_all(b"echo bonjour\r\nexit 0\r\n")
                .await
                .unwrap();
            drop(stdin);
            let mut out = Vec::new();
            stdout.read_to_end(&mut out).await.unwrap();
            assert!(cmd.wait().await.unwrap().success());
            String::from_utf8_lossy(&out).into_owned()
        });
        assert!(out.contains("bonjour"), "{out:?}");
    }

    #[test]
    fn a_missing_program_is_a_clear_error_that_keeps_the_os_error() {
        let error = Command::new("clearloop-no-such-program")
            .spawn()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        // std looks the program up in PATH itself on Windows and says "program not
        // found" with no OS error number when it is nowhere.
        assert_eq!(error.raw_os_error(), None);
        assert!(
            error
                .to_string()
                .starts_with("cannot start `clearloop-no-such-program`: "),
            "{error}"
        );
    }

    #[test]
    fn a_second_wait_returns_the_same_status() {
        clearloop::run(async {
            let mut child = Command::new("cmd").args(["/c", "exit 4"]).spawn().unwrap();
            assert_eq!(child.wait().await.unwrap().code(), Some(4));
            assert_eq!(child.wait().await.unwrap().code(), Some(4));
        });
    }

    /// A running child dropped: it runs on (no zombies on Windows: nothing to
    /// reap), and the reactor forgets its handle.
    #[test]
    fn a_dropped_running_child_leaves_nothing_registered() {
        const CHILD: &str = "CLEARLOOP_TEST_DROPPED_CHILD";
        if std::env::var_os(CHILD).is_none() {
            // The count of sources is the process's: the other tests of this binary
            // register theirs meanwhile. Count in a process of our own.
            super::common::in_own_process(
                "windows::a_dropped_running_child_leaves_nothing_registered",
                CHILD,
                &[],
            );
            return;
        }
        clearloop::run(async {
            let mut child = Command::new("ping")
                .args(["-n", "3", "127.0.0.1"])
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            let waited = timeout(Duration::from_millis(100), child.wait()).await;
            assert!(waited.is_err(), "ping -n 3 takes about 2 s");
            drop(child);
        });
        assert_eq!(clearloop::reactor::sources(), 0);
    }

    #[test]
    fn on_the_virtual_clock_a_child_holds_time_until_it_exits() {
        let runtime = Builder::new().clock(Clock::virtual_clock()).build();
        let (status, waited) = runtime.block_on(async {
            let start = clearloop::time::now();
            let mut ping = Command::new("ping");
            ping.args(["-n", "2", "127.0.0.1"]).stdout(Stdio::null());
            let status = timeout(Duration::from_secs(1), ping.status()).await;
            (status, clearloop::time::now() - start)
        });
        assert!(status.expect("timed out").unwrap().success());
        assert_eq!(waited, Duration::ZERO);
    }
}
