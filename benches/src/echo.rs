//! TCP echo on loopback, written once for both runtimes: the server's accept loop
//! and its per-connection handler, used by the `compare` report's echo section and by
//! the criterion bench `io`. Each handler reads what came (into a 64 KiB buffer) and
//! writes it all back, until the client closes.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Echoes one connection until the peer closes it or an error ends it.
pub async fn clearloop_serve(mut stream: clearloop::net::TcpStream) {
    let mut buf = vec![0; 64 * 1024];
    while let Ok(n @ 1..) = stream.read(&mut buf).await {
        if stream.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

/// Binds 127.0.0.1 and spawns the accept loop on the current clearloop runtime
/// (one detached handler task per connection, `TCP_NODELAY` on); returns the address
/// and the accept loop's task (it ends with the runtime, or when dropped).
pub fn clearloop_server() -> (SocketAddr, clearloop::Task<()>) {
    let listener = clearloop::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let server = clearloop::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            stream.set_nodelay(true).expect("nodelay");
            drop(clearloop::spawn(clearloop_serve(stream)));
        }
    });
    (addr, server)
}

/// Echoes one connection until the peer closes it or an error ends it.
pub async fn tokio_serve(mut stream: tokio::net::TcpStream) {
    let mut buf = vec![0; 64 * 1024];
    while let Ok(n @ 1..) = stream.read(&mut buf).await {
        if stream.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

/// [`clearloop_server`] for tokio, inside a tokio runtime: the address, and the
/// accept loop's handle (abort it when done).
pub async fn tokio_server() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            stream.set_nodelay(true).expect("nodelay");
            tokio::spawn(tokio_serve(stream));
        }
    });
    (addr, server)
}
