//! Unix domain sockets: an echo through a socket file, errors naming the path, and
//! the `futures` io utilities on a socket pair.
#![cfg(unix)] // Unix-domain sockets are Unix-only (asyncio's start_unix_server too)

use std::io::ErrorKind;
use std::net::Shutdown;
use std::path::PathBuf;

use clearloop::net::{UnixListener, UnixStream};
use clearloop::spawn;

/// A fresh socket path in the temporary directory, removed when dropped.
struct SocketPath(PathBuf);

impl SocketPath {
    fn new(name: &str) -> SocketPath {
        let path =
            std::env::temp_dir().join(format!("clearloop-{}-{name}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        SocketPath(path)
    }
}

impl Drop for SocketPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn echo_through_a_socket_file() {
    let path = SocketPath::new("echo");
    let listener = UnixListener::bind(&path.0).unwrap();
    assert_eq!(listener.local_path(), path.0);
    let reply = clearloop::run(async move {
        let server = spawn(async move {
            let mut stream = listener.accept().await.unwrap();
            assert!(stream.peer().starts_with("a client of "));
            let mut buf = Vec::new();
            let mut chunk = [0; 4];
            loop {
                match stream.read(&mut chunk).await.unwrap() {
                    0 => break, // the client's half-close
                    n => buf.extend_from_slice(&chunk[..n]),
                }
            }
            stream.write_all(&buf).await.unwrap();
        });
        let mut client = UnixStream::connect(&path.0).await.unwrap();
        client.write_all(b"over a unix socket").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut reply = [0; 18];
        client.read_exact(&mut reply).await.unwrap();
        server.await;
        assert_eq!(client.read(&mut [0; 1]).await.unwrap(), 0);
        reply
    });
    assert_eq!(&reply, b"over a unix socket");
}

#[test]
fn errors_name_the_path() {
    let path = SocketPath::new("errors");
    let error = clearloop::run(UnixStream::connect(&path.0)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("connect to {}: ", path.0.display())),
        "{error}"
    );
    let _listener = UnixListener::bind(&path.0).unwrap();
    let error = UnixListener::bind(&path.0).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");
    assert!(error.to_string().contains(&path.0.display().to_string()));
}

#[test]
fn futures_lines_on_a_socket_pair() {
    use futures_util::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use futures_util::stream::StreamExt;
    let lines: Vec<String> = clearloop::run(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let writer = spawn(async move {
            a.write_all(b"alpha\nbeta\n").await.unwrap();
            a.close().await.unwrap();
        });
        let lines = BufReader::new(b)
            .lines()
            .map(Result::unwrap)
            .collect()
            .await;
        writer.await;
        lines
    });
    assert_eq!(lines, ["alpha", "beta"]);
}
