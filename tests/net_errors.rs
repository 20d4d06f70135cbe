//! What a failed socket call gives back: the OS's errno and kind, and the address
//! or host in the message; and where host names are resolved (on the blocking pool,
//! never on the loop's thread; a literal address on the spot).

use std::io::ErrorKind;

use clearloop::net::{NetError, TcpListener, TcpStream};
use rustix::io::Errno;

mod common;

/// A port nobody listens on (unless another program took it since).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn connection_refused_keeps_the_errno_and_the_kind_and_names_the_address() {
    let port = closed_port();
    let error = clearloop::run(TcpStream::connect(("127.0.0.1", port))).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
    assert_eq!(
        error.raw_os_error(),
        Some(Errno::CONNREFUSED.raw_os_error()),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("connect to 127.0.0.1:{port}: ")),
        "{text}"
    );
}

#[test]
fn the_address_alone_and_the_errno_after_question_mark() {
    let port = closed_port();
    let error = clearloop::run(TcpStream::connect(("127.0.0.1", port))).unwrap_err();
    assert_eq!(error.operation(), "connect to");
    assert_eq!(error.address(), Some(&*format!("127.0.0.1:{port}")));
    assert_eq!(error.os_error().raw_os_error(), error.raw_os_error());
    assert!(std::error::Error::source(&error).is_some());

    // `?` into an io::Error: the kind and the message stay, the NetError is found.
    async fn connect(port: u16) -> std::io::Result<TcpStream> {
        Ok(TcpStream::connect(("127.0.0.1", port)).await?)
    }
    let io_error = clearloop::run(connect(port)).unwrap_err();
    assert_eq!(io_error.kind(), ErrorKind::ConnectionRefused);
    assert!(io_error.to_string().starts_with("connect to 127.0.0.1:"));
    let inner = NetError::of(&io_error).expect("the NetError is inside");
    assert_eq!(
        inner.raw_os_error(),
        Some(Errno::CONNREFUSED.raw_os_error())
    );
    assert_eq!(inner.address(), Some(&*format!("127.0.0.1:{port}")));
    // The bare OS error, address dropped, as std and tokio give it.
    let bare = error.into_os_error();
    assert_eq!(bare.raw_os_error(), Some(Errno::CONNREFUSED.raw_os_error()));
}

#[test]
fn a_host_that_does_not_resolve_is_named() {
    let error = clearloop::run(TcpStream::connect("no-such-host.invalid:80")).unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("connect to no-such-host.invalid:80: "),
        "{text}"
    );
    let error = clearloop::run(TcpStream::connect(("no-such-host.invalid", 81))).unwrap_err();
    assert!(
        error.to_string().contains("no-such-host.invalid:81"),
        "{error}"
    );
}

#[test]
fn a_refused_name_names_the_host_and_the_address_it_tried() {
    let port = closed_port();
    let error = clearloop::run(TcpStream::connect(("localhost", port))).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
    assert_eq!(
        error.raw_os_error(),
        Some(Errno::CONNREFUSED.raw_os_error())
    );
    // `localhost:PORT (127.0.0.1:PORT)`, or `[::1]:PORT` if ::1 was tried last.
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("connect to localhost:{port} (")),
        "{text}"
    );
    assert!(text.contains(&format!(":{port})")), "{text}");
}

#[test]
fn malformed_addresses_are_refused_at_once_and_named() {
    let error = clearloop::run(TcpStream::connect("localhost")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().contains("\"localhost\""), "{error}");
    assert!(error.to_string().contains("no port"), "{error}");
    let error = TcpListener::bind("127.0.0.1:99999").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().contains("port"), "{error}");
}

/// Threads of the blocking pool alive in this process (named `clearloop-blocking-*`;
/// the kernel keeps 15 bytes of a thread's name).
#[cfg(target_os = "linux")]
fn pool_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter(|task| {
            let comm = task.as_ref().unwrap().path().join("comm");
            std::fs::read_to_string(comm).is_ok_and(|name| name.starts_with("clearloop-block"))
        })
        .count()
}

#[test]
#[cfg(target_os = "linux")] // counts the pool's threads by name in /proc
fn a_name_is_resolved_on_the_pool_and_a_literal_address_on_the_spot() {
    const CHILD: &str = "CLEARLOOP_TEST_RESOLVE_CHILD";
    if std::env::var_os(CHILD).is_none() {
        // Another test of this binary may start the pool: count in a process of our own.
        common::in_own_process(
            "a_name_is_resolved_on_the_pool_and_a_literal_address_on_the_spot",
            CHILD,
            &[],
        );
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let port = addr.port();
    clearloop::run(async move {
        assert_eq!(pool_threads(), 0, "nothing used the pool yet");
        // Literal addresses, in every form: parsed here, no thread involved.
        let literal = [
            TcpStream::connect(addr).await,
            TcpStream::connect(format!("127.0.0.1:{port}")).await,
            TcpStream::connect(("127.0.0.1", port)).await,
            TcpStream::connect(&[addr][..]).await,
        ];
        assert!(literal.iter().all(Result::is_ok));
        assert_eq!(pool_threads(), 0, "a literal address went to the pool");
        // A name: getaddrinfo runs on a pool thread (which stays 10 s, idle).
        let named = TcpStream::connect(("localhost", port)).await.unwrap();
        assert_eq!(named.peer_addr().unwrap().port(), port);
        assert_eq!(pool_threads(), 1, "the name was not resolved on the pool");
    });
    drop(listener);
}
