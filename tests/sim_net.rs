//! The simulated network: latency, bandwidth, loss, partitions, resets and refused
//! connections, on the virtual clock, with no real socket; through `net`'s own types.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use clearloop::net::{TcpListener, TcpStream, UdpSocket};
use clearloop::sim::net::{Link, connect_from, network};
use clearloop::time::{now, sleep};
use clearloop::{Builder, spawn};

const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// An echo server on B:7, spawned; returns its address.
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind(SocketAddr::new(B, 7)).expect("bind");
    let addr = listener.local_addr().unwrap();
    drop(spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            drop(spawn(async move {
                let mut buf = [0u8; 1024];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            }));
        }
    }));
    addr
}

#[test]
fn latency_is_exact_a_connect_takes_one_round_trip_and_an_echo_another() {
    Builder::new().simulation(1).build().block_on(async {
        network().set_link(
            A,
            B,
            Link {
                latency: ms(10),
                ..Link::default()
            },
        );
        let addr = echo_server();
        let start = now();
        let mut stream = connect_from(A, addr).await.unwrap();
        assert_eq!(now() - start, ms(20));
        stream.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        assert_eq!(now() - start, ms(40));
        assert_eq!(stream.peer_addr().unwrap(), addr);
        assert_eq!(stream.local_addr().unwrap().ip(), A);
    });
}

#[test]
fn bandwidth_spreads_bytes_over_time() {
    Builder::new().simulation(1).build().block_on(async {
        network().set_link(
            A,
            B,
            Link {
                latency: ms(5),
                bytes_per_second: Some(1_000),
                loss: 0.0,
            },
        );
        let listener = TcpListener::bind(SocketAddr::new(B, 80)).unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let start = now();
            let mut buf = vec![0u8; 2_000];
            stream.read_exact(&mut buf).await.unwrap();
            (now() - start, buf.iter().all(|&b| b == 7))
        });
        let mut stream = connect_from(A, addr).await.unwrap();
        // The reader's clock starts when its accept returns, one latency before ours.
        stream.write_all(&[7u8; 1_000]).await.unwrap();
        stream.write_all(&[7u8; 1_000]).await.unwrap();
        let (took, intact) = reader.await;
        assert!(intact);
        // 2,000 bytes at 1,000 B/s, plus the latency, less the 5 ms the reader
        // started after us.
        assert_eq!(took, Duration::from_secs(2) + ms(5) + ms(5));
    });
}

#[test]
fn a_lost_tcp_segment_arrives_later_and_the_bytes_stay_in_order() {
    let run = |seed| {
        Builder::new().simulation(seed).build().block_on(async {
            network().set_link(
                A,
                B,
                Link {
                    latency: ms(1),
                    bytes_per_second: None,
                    loss: 0.3,
                },
            );
            let addr = echo_server();
            let mut stream = connect_from(A, addr).await.unwrap();
            let start = now();
            let mut got = Vec::new();
            for i in 0..50u8 {
                stream.write_all(&[i]).await.unwrap();
                let mut byte = [0u8];
                stream.read_exact(&mut byte).await.unwrap();
                got.push(byte[0]);
            }
            assert_eq!(got, (0..50).collect::<Vec<u8>>());
            now() - start
        })
    };
    let took = run(5);
    // Without loss, 50 round trips of 2 ms; each loss adds 200 ms.
    assert!(took > ms(100) + ms(200), "{took:?}");
    assert_eq!((took - ms(100)).as_millis() % 200, 0, "{took:?}");
    assert_eq!(run(5), took, "one seed, one run");
}

#[test]
fn datagrams_are_lost_by_the_seed_and_the_same_ones_on_a_replay() {
    let run = |seed| {
        Builder::new().simulation(seed).build().block_on(async {
            network().set_default_link(Link {
                latency: ms(3),
                bytes_per_second: None,
                loss: 0.5,
            });
            let receiver = UdpSocket::bind(SocketAddr::new(B, 53)).unwrap();
            let sender = UdpSocket::bind(SocketAddr::new(A, 0)).unwrap();
            for i in 0..100u8 {
                sender.send_to(&[i], SocketAddr::new(B, 53)).await.unwrap();
            }
            sender
                .send_to(&[255], SocketAddr::new(B, 53))
                .await
                .unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 8];
            // The end marker may be lost too: stop at a virtual deadline.
            let deadline = now() + ms(50);
            while let Ok(Ok((n, from))) =
                clearloop::timeout(deadline - now(), receiver.recv_from(&mut buf)).await
            {
                assert_eq!((n, from.ip()), (1, A));
                got.push(buf[0]);
            }
            got
        })
    };
    let got = run(9);
    let arrived = got.iter().filter(|&&b| b < 100).count();
    assert!((20..80).contains(&arrived), "{arrived} of 100 arrived");
    assert_eq!(run(9), got);
    assert_ne!(run(10), got);
}

#[test]
fn a_partition_holds_tcp_until_it_heals_and_drops_datagrams() {
    Builder::new().simulation(2).build().block_on(async {
        let addr = echo_server();
        let mut stream = connect_from(A, addr).await.unwrap();
        network().partition(A, B, Duration::from_secs(5));
        let start = now();
        stream.write_all(b"x").await.unwrap();
        let mut byte = [0u8];
        stream.read_exact(&mut byte).await.unwrap();
        assert_eq!(now() - start, Duration::from_secs(5));

        network().partition(A, B, Duration::from_secs(5));
        let receiver = UdpSocket::bind(SocketAddr::new(B, 9)).unwrap();
        let sender = UdpSocket::bind(SocketAddr::new(A, 9)).unwrap();
        sender
            .send_to(b"lost", receiver.local_addr().unwrap())
            .await
            .unwrap();
        let mut buf = [0u8; 8];
        let heard = clearloop::timeout(Duration::from_secs(10), receiver.recv_from(&mut buf)).await;
        assert!(heard.is_err(), "a datagram crossed a partition");
    });
}

#[test]
fn a_reset_reaches_both_ends_and_a_connect_nobody_listens_to_is_refused() {
    Builder::new().simulation(3).build().block_on(async {
        network().set_default_link(Link {
            latency: ms(7),
            ..Link::default()
        });
        let listener = TcpListener::bind(SocketAddr::new(B, 443)).unwrap();
        let mut client = connect_from(A, SocketAddr::new(B, 443)).await.unwrap();
        let (mut server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer.ip(), A);
        let reader = spawn(async move {
            let mut buf = [0u8; 4];
            server.read(&mut buf).await.map_err(|e| e.kind())
        });
        sleep(ms(1)).await;
        network().reset(A, B);
        assert_eq!(reader.await, Err(ErrorKind::ConnectionReset));
        let mut buf = [0u8; 4];
        let read = client.read(&mut buf).await.map_err(|e| e.kind());
        assert_eq!(read, Err(ErrorKind::ConnectionReset));
        assert_eq!(
            client.write_all(b"x").await.map_err(|e| e.kind()),
            Err(ErrorKind::ConnectionReset)
        );

        let start = now();
        let refused = connect_from(A, SocketAddr::new(B, 444)).await;
        assert_eq!(
            refused.err().map(|e| e.kind()),
            Some(ErrorKind::ConnectionRefused)
        );
        assert_eq!(now() - start, ms(14), "refused after one round trip");
    });
}

#[test]
fn a_closed_stream_reads_as_the_end_after_its_last_bytes() {
    Builder::new().simulation(4).build().block_on(async {
        network().set_default_link(Link {
            latency: ms(2),
            ..Link::default()
        });
        let listener = TcpListener::bind(SocketAddr::new(B, 1)).unwrap();
        let client = spawn(async move {
            let mut stream = connect_from(A, SocketAddr::new(B, 1)).await.unwrap();
            stream.write_all(b"last words").await.unwrap();
        }); // dropped here: its FIN follows the bytes
        let (mut server, _) = listener.accept().await.unwrap();
        client.await;
        let mut all = Vec::new();
        let mut buf = [0u8; 3];
        loop {
            match server.read(&mut buf).await.unwrap() {
                0 => break,
                n => all.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(all, b"last words");
        // Writing to a peer that is gone is a broken pipe.
        let err = server.write_all(b"?").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn ten_virtual_seconds_of_traffic_open_no_real_socket() {
    let sources_before = clearloop::reactor::sources();
    let rounds = Builder::new().simulation(6).build().block_on(async {
        network().set_default_link(Link {
            latency: ms(5),
            ..Link::default()
        });
        let addr = echo_server();
        let mut stream = connect_from(A, addr).await.unwrap();
        let start = now();
        let mut rounds = 0;
        while now() - start < Duration::from_secs(10) {
            stream.write_all(b"tick").await.unwrap();
            let mut buf = [0u8; 4];
            stream.read_exact(&mut buf).await.unwrap();
            rounds += 1;
        }
        assert_eq!(now() - start, Duration::from_secs(10));
        rounds
    });
    assert_eq!(rounds, 1_000);
    assert_eq!(
        clearloop::reactor::sources(),
        sources_before,
        "a real socket was made"
    );
}

#[test]
fn network_outside_a_simulation_says_how_to_get_one() {
    let caught = std::panic::catch_unwind(|| {
        Builder::new().build().block_on(async {
            network();
        })
    });
    let message = clearloop::panics::message(&*caught.unwrap_err());
    assert!(
        message.contains("outside a simulation runtime"),
        "{message}"
    );
    assert!(
        message.contains("Builder::new().simulation(seed)"),
        "{message}"
    );
}

#[test]
fn the_net_types_on_a_simulation_are_simulated_lines_and_halves_included() {
    let sources_before = clearloop::reactor::sources();
    Builder::new().simulation(8).build().block_on(async {
        network().set_default_link(Link {
            latency: ms(25),
            ..Link::default()
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.port() >= 49152, "{addr}");
        let taken = TcpListener::bind(addr).unwrap_err();
        assert_eq!(taken.kind(), ErrorKind::AddrInUse, "{taken}");
        let server = spawn(async move {
            let (stream, peer) = listener.accept().await.unwrap();
            let (mut reader, mut writer) = stream.split();
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            writer
                .write_all(format!("hello {line}").as_bytes())
                .await
                .unwrap();
            peer
        });
        let start = now();
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        stream.write_all(b"alice\n").await.unwrap();
        let mut answer = String::new();
        stream.read_line(&mut answer).await.unwrap();
        assert_eq!(answer, "hello alice\n");
        // Connect (two crossings), the line there and the answer back: four.
        assert_eq!(now() - start, ms(100));
        assert_eq!(server.await, stream.local_addr().unwrap());

        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        a.connect(b.local_addr().unwrap()).unwrap();
        let taken = UdpSocket::bind(b.local_addr().unwrap()).unwrap_err();
        assert_eq!(taken.kind(), ErrorKind::AddrInUse, "{taken}");
        a.send(b"ping").await.unwrap();
        let mut buf = [0u8; 8];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
        assert_eq!(
            b.recv(&mut buf).await.unwrap_err().kind(),
            ErrorKind::NotConnected
        );
        let refused = TcpStream::connect("127.0.0.1:1").await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
        assert!(
            refused.to_string().starts_with("connect to 127.0.0.1:1"),
            "{refused}"
        );
    });
    assert_eq!(
        clearloop::reactor::sources(),
        sources_before,
        "a real socket was made"
    );
}

#[test]
fn a_simulated_socket_has_no_descriptor_and_says_so() {
    Builder::new().simulation(8).build().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            #[cfg(unix)]
            let _descriptor = std::os::fd::AsFd::as_fd(&listener);
            #[cfg(windows)]
            let _socket = std::os::windows::io::AsSocket::as_socket(&listener);
        }));
        let message = clearloop::panics::message(&*caught.unwrap_err());
        assert!(
            message.contains("is simulated (Builder::simulation)"),
            "{message}"
        );
    });
}

/// A client reading from a server that never writes: nothing can ever arrive, and
/// the deadlock report names the simulated socket each task waits on.
#[test]
fn a_read_nothing_will_answer_is_a_deadlock_naming_the_simulated_socket() {
    let caught = std::panic::catch_unwind(|| {
        Builder::new().simulation(11).build().block_on(async {
            let listener = TcpListener::bind(SocketAddr::new(B, 80)).unwrap();
            let server = spawn(async move {
                let (_stream, _) = listener.accept().await.unwrap();
                std::future::pending::<()>().await;
            });
            let mut stream = connect_from(A, SocketAddr::new(B, 80)).await.unwrap();
            let mut buf = [0u8; 1];
            stream.read(&mut buf).await.unwrap();
            server.await;
        })
    });
    let report = clearloop::panics::message(&*caught.unwrap_err());
    assert!(report.starts_with("deadlock at "), "{report}");
    assert!(
        report.contains("task 0 'main' waits on socket 10.0.0.2:80 (simulated)"),
        "{report}"
    );
}
