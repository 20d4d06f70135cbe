//! Nothing leaks: a dropped socket leaves the reactor, a task cancelled while its
//! accept, read or write pends leaves nothing registered, and ten thousand
//! connections opened and closed leave the process with the file descriptors it had.
//!
//! These tests count process-wide things (the reactor's sources, `/proc/self/fd` or
//! Windows' handle count),
//! so they run one at a time, and alone in this test binary.

use std::sync::Mutex;

use clearloop::net::{TcpListener, TcpStream};
use clearloop::task::yield_now;
use clearloop::{Runtime, spawn};

mod common;

/// One test at a time: each counts what the whole process holds.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Descriptors the process's reactors watch: the sockets that have waited (a
/// socket joins a reactor at its first wait) and are still open.
fn registered() -> usize {
    clearloop::reactor::sources()
}

/// The file descriptors the process holds (Linux: `/proc/self/fd`; the other Unix
/// systems have no such list, and the count is skipped there).
#[cfg(unix)]
fn open_fds() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count())
}

/// The handles the process holds (Windows: `GetProcessHandleCount`): a socket is
/// one (Winsock's sockets are handles of the AFD driver), and so are the selector's
/// completion port and its AFD device handles.
///
/// Not under Wine, where neither count means anything: Wine 8's
/// `GetProcessHandleCount` answers 0 whatever the process holds, and
/// `/proc/self/fd` lists the descriptors of the Linux process behind it, which Wine
/// caches and opens for its own needs (the count moved by tens, either way, between
/// runs of 100 and 10,000 connections).
#[cfg(windows)]
fn open_fds() -> Option<usize> {
    if common::under_wine() {
        eprintln!("net_resources: the handle count is skipped under Wine (see open_fds)");
        return None;
    }
    use std::ffi::c_void;
    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn GetCurrentProcess() -> *mut c_void;
        fn GetProcessHandleCount(process: *mut c_void, count: *mut u32) -> i32;
    }
    let mut count = 0;
    // SAFETY: the pseudo-handle of this process, and a pointer to a local u32.
    let ok = unsafe { GetProcessHandleCount(GetCurrentProcess(), &mut count) };
    assert_ne!(
        ok,
        0,
        "GetProcessHandleCount: {}",
        std::io::Error::last_os_error()
    );
    Some(count as usize)
}

#[test]
fn cancelling_a_pending_accept_read_and_write_leaves_nothing_registered() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = Runtime::new();
    runtime.block_on(async {
        let before = registered();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // A second listener, whose accept pends forever (nobody connects to it).
        let idle = TcpListener::bind("127.0.0.1:0").unwrap();
        let accepting = spawn(async move { idle.accept().await.map(|_| ()) });

        let mut client = TcpStream::connect(addr).await.unwrap();
        let (reader_side, _) = listener.accept().await.unwrap();
        let reading = spawn(async move {
            let mut stream = reader_side;
            let mut buf = [0; 8];
            stream.read(&mut buf).await
        });

        let (writer_side, (_peer, _)) = {
            let connecting = TcpStream::connect(addr);
            let (connected, accepted) =
                futures_util::future::join(connecting, listener.accept()).await;
            (connected.unwrap(), accepted.unwrap())
        };
        // Nobody reads at the other end (`_peer` keeps it open): the write fills
        // both buffers and pends.
        let writing = spawn(async move {
            let mut stream = writer_side;
            stream.write_all(&vec![0u8; 64 << 20]).await
        });
        for _ in 0..20 {
            yield_now().await;
        }
        assert!(!accepting.done() && !reading.done() && !writing.done());
        // At least idle, reader_side and writer_side, whose operations pend (the
        // others joined a reactor only if one of their operations had to wait).
        let during = registered();
        assert!(during >= before + 3, "{during} sources, {before} before");

        assert!(accepting.cancel() && reading.cancel() && writing.cancel());
        let (accepted, read, written) = (accepting.join(), reading.join(), writing.join());
        assert!(accepted.await.unwrap_err().is_cancelled());
        assert!(read.await.unwrap_err().is_cancelled());
        assert!(written.await.unwrap_err().is_cancelled());
        // Their sockets went with them: three fewer sources.
        assert_eq!(registered(), during - 3);
        // The cancelled reader's socket is closed: our client reads the end of stream.
        let mut buf = [0; 8];
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        drop((client, listener, _peer));
        assert_eq!(registered(), before);
    });
}

#[test]
fn dropping_the_runtime_with_a_read_pending_leaves_nothing_registered() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let before = registered();
    let peer = {
        let runtime = Runtime::new();
        let peer = runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            drop(spawn(async move {
                let mut buf = [0; 8];
                let _ = server.read(&mut buf).await; // pends until the runtime drops
            }));
            yield_now().await;
            client
        });
        assert!(registered() > before, "the server's pending read waits");
        peer
        // The runtime drops here, and with it the pending task and its socket.
    };
    assert!(
        registered() <= before + 1,
        "only the returned client may be left"
    );
    drop(peer);
    assert_eq!(registered(), before);
}

#[test]
fn ten_thousand_connections_leave_no_file_descriptor_behind() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    const N: usize = 10_000;
    // The runtime is dropped before the count: its reactor's epoll and eventfd go
    // with it.
    let runtime = Runtime::new();
    let fds_before = open_fds();
    let sources_before = registered();
    let accepted = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let mut accepted = 0;
            while accepted < N {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut byte = [0; 1];
                stream.read_exact(&mut byte).await.unwrap();
                accepted += 1;
            }
            accepted
        });
        for _ in 0..N {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(b"x").await.unwrap();
        }
        server.await
    });
    assert_eq!(accepted, N);
    assert_eq!(registered(), sources_before);
    drop(runtime);
    assert_eq!(open_fds(), fds_before, "file descriptors (handles) leaked");
}

/// CPU time this process has used (user + system), from `/proc/self/stat`.
#[cfg(unix)]
fn cpu_time() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which may hold spaces, inside parentheses).
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // Linux reports in clock ticks of 1/100 s (USER_HZ) on every common platform.
    std::time::Duration::from_millis(ticks * 10)
}

/// CPU time this process has used (user + system), from `GetProcessTimes` (in
/// units of 100 ns).
#[cfg(windows)]
fn cpu_time() -> std::time::Duration {
    use std::ffi::c_void;
    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn GetCurrentProcess() -> *mut c_void;
        fn GetProcessTimes(
            process: *mut c_void,
            creation: *mut u64,
            exit: *mut u64,
            kernel: *mut u64,
            user: *mut u64,
        ) -> i32;
    }
    let (mut creation, mut exit, mut kernel, mut user) = (0, 0, 0, 0);
    // SAFETY: the pseudo-handle of this process, and pointers to four local u64
    // (a FILETIME is two u32 in the same layout).
    let ok = unsafe {
        GetProcessTimes(
            GetCurrentProcess(),
            &mut creation,
            &mut exit,
            &mut kernel,
            &mut user,
        )
    };
    assert_ne!(
        ok,
        0,
        "GetProcessTimes: {}",
        std::io::Error::last_os_error()
    );
    std::time::Duration::from_nanos((kernel + user) * 100)
}

/// An idle server with open connections sleeps in the kernel: no thread spins, on
/// one thread or on two workers (the loop, or the driving worker, waits in
/// `epoll_wait`; the other workers park).
fn idle_server_uses_no_cpu(runtime: Runtime) {
    use std::time::Duration;
    let used = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut held = Vec::new();
        for _ in 0..100 {
            let client = TcpStream::connect(addr).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            // Each connection has a task waiting to read: 100 sources armed.
            held.push((
                client,
                spawn(async move { server.read(&mut [0; 8]).await.map(|_| ()) }),
            ));
        }
        yield_now().await;
        let before = cpu_time();
        // Real time on purpose: this measures what idleness costs, not when
        // something happens.
        clearloop::time::sleep(Duration::from_millis(500)).await;
        cpu_time() - before
    });
    // A spinning thread would use about 500 ms here; allow scheduling noise.
    assert!(
        used < Duration::from_millis(100),
        "idle for 0.5 s used {used:?} of CPU"
    );
}

#[test]
fn an_idle_server_uses_no_cpu_on_one_thread_or_two_workers() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    idle_server_uses_no_cpu(Runtime::new());
    idle_server_uses_no_cpu(clearloop::Builder::new().worker_threads(2).build());
}
