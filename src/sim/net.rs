//! A simulated network on the virtual clock: TCP and UDP between in-memory hosts,
//! with latency, bandwidth, loss, partitions and resets, all decided by the seed.
//!
//! The sockets are [`crate::net`]'s own types: on a simulation runtime
//! (`Builder::new().simulation(seed)`), `TcpListener::bind`, `TcpStream::connect`
//! and `UdpSocket::bind` make simulated sockets, so a program (the course's echo
//! server, `fetch_many`) runs unchanged on the simulated network.
//!
//! No real socket and no real-time wait: a byte written is a segment put in the
//! other end's queue with the instant it arrives, and a reader whose next segment
//! is still in flight sleeps on the runtime's timer until that instant. So ten
//! virtual seconds of traffic take as long as the program's own work.
//!
//! ```text
//!   host 10.0.0.1                  the link (10.0.0.1, 10.0.0.2)        host 10.0.0.2
//!   stream.write(b"hi") ──> segment "hi", arrives at now + latency ──> queue ──> read()
//!                           (+ len / bandwidth when the link is busy,     (sleeps until
//!                            + a retransmission delay when "lost",         the head's
//!                            held until a partition heals)                 instant)
//! ```
//!
//! TCP stays what it promises: bytes arrive in order and complete, a lost segment
//! only arrives later (after [`RETRANSMISSION`] or twice the round trip), and a
//! partition holds the traffic until it heals. UDP is what it is: a lost datagram,
//! or one sent across a partition, is gone. A connection to an address where nobody
//! listens is refused after one round trip; [`Network::reset`] breaks every
//! connection between two hosts, and both ends read `ConnectionReset`.
//!
//! Simplifications, said once: the queues are unbounded (a peer that never reads
//! does not stop its writer, as a full kernel buffer would), there is no
//! congestion window, and a host is only an IP address (which task runs "on" which
//! host is up to the program: [`connect_from`] names the local one).
//! turmoil makes the same choices at the same level; madsim goes further and
//! simulates the whole process.

use std::collections::{HashMap, VecDeque};
use std::future::{Future, poll_fn};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::net::{NetError, TcpStream};
use crate::random::SplitMix64;
use crate::time::{Sleep, now, sleep_until};

/// How late a lost TCP segment arrives, at least (Linux's minimum retransmission
/// timeout is 200 ms).
pub const RETRANSMISSION: Duration = Duration::from_millis(200);

/// The local address of a connection made with [`TcpStream::connect`] to a host
/// other than the loopback: the simulated machine the program runs on.
pub const CLIENT_HOST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));

/// What a link between two hosts does to what crosses it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Link {
    /// One way, for every segment and datagram.
    pub latency: Duration,
    /// Bytes per second in each direction; `None`: no limit.
    pub bytes_per_second: Option<u64>,
    /// The chance (0.0 to 1.0) that a segment is lost: a TCP segment is then sent
    /// again and arrives [`RETRANSMISSION`] later, a datagram is gone.
    pub loss: f64,
}

impl Default for Link {
    /// An instant, perfect link: the loopback of the virtual-clock tests.
    fn default() -> Link {
        Link {
            latency: Duration::ZERO,
            bytes_per_second: None,
            loss: 0.0,
        }
    }
}

/// The simulated network of a simulation runtime: how to shape its links and
/// break them. Get it with [`network`] inside the runtime.
#[derive(Clone)]
pub struct Network {
    world: Arc<World>,
}

/// The network of the simulation runtime running on this thread.
///
/// # Panics
///
/// Outside a simulation runtime (`Builder::new().simulation(seed)`): an ordinary
/// runtime's sockets are the operating system's.
#[track_caller]
pub fn network() -> Network {
    match crate::runtime::current_network() {
        Some(world) => Network { world },
        None => panic!(
            "clearloop::sim::net::network() was called outside a simulation runtime: build \
             it with Builder::new().simulation(seed), and call network() from its tasks"
        ),
    }
}

impl Network {
    /// Every link without a [`set_link`](Network::set_link) of its own.
    pub fn set_default_link(&self, link: Link) {
        self.world.lock().default_link = link;
    }

    /// The link between hosts `a` and `b`, both ways.
    pub fn set_link(&self, a: IpAddr, b: IpAddr, link: Link) {
        self.world.lock().links.insert(pair(a, b), link);
    }

    /// Cuts `a` from `b` for `duration` of virtual time: TCP traffic between them
    /// waits until the partition heals, datagrams are lost.
    pub fn partition(&self, a: IpAddr, b: IpAddr, duration: Duration) {
        let until = now() + duration;
        self.world.lock().partitions.push((pair(a, b), until));
    }

    /// Resets every open TCP connection between hosts `a` and `b`: both ends read
    /// and write `ConnectionReset` from now on.
    pub fn reset(&self, a: IpAddr, b: IpAddr) {
        let wanted = pair(a, b);
        let mut world = self.world.lock();
        world.connections.retain(|weak| weak.strong_count() > 0);
        let hit: Vec<Arc<Connection>> = world
            .connections
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|c| pair(c.ends[0].ip(), c.ends[1].ip()) == wanted)
            .collect();
        drop(world);
        for connection in hit {
            reset(&connection);
        }
    }
}

/// The network's state, behind one lock (the runtime has one thread, but sockets
/// are `Send`, as the real ones are).
pub(crate) struct World(Mutex<WorldState>);

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a simulated network")
    }
}

struct WorldState {
    /// Draws which segments are lost.
    rng: SplitMix64,
    default_link: Link,
    links: HashMap<(IpAddr, IpAddr), Link>,
    /// Pairs of hosts cut until an instant.
    partitions: Vec<((IpAddr, IpAddr), Instant)>,
    /// Per direction (from, to): until when the link is busy sending, for bandwidth.
    busy_until: HashMap<(IpAddr, IpAddr), Instant>,
    listeners: HashMap<SocketAddr, Arc<Mutex<Backlog>>>,
    datagrams: HashMap<SocketAddr, Arc<Mutex<Mailbox>>>,
    /// Open connections, for `reset`.
    connections: Vec<Weak<Connection>>,
    next_port: u16,
}

impl World {
    /// A network whose losses `seed` draws.
    pub(crate) fn new(seed: u64) -> Arc<World> {
        Arc::new(World(Mutex::new(WorldState {
            rng: SplitMix64::new(seed ^ 0x6E65_7477_6F72_6B21), // apart from the task picks
            default_link: Link::default(),
            links: HashMap::new(),
            partitions: Vec::new(),
            busy_until: HashMap::new(),
            listeners: HashMap::new(),
            datagrams: HashMap::new(),
            connections: Vec::new(),
            next_port: 49152,
        })))
    }

    fn lock(&self) -> MutexGuard<'_, WorldState> {
        lock(&self.0)
    }
}

impl WorldState {
    /// When `len` bytes sent now from `from` to `to` arrive; `None` when they never
    /// do (a lost or partitioned datagram). `reliable`: TCP's rules.
    fn arrival(&mut self, from: IpAddr, to: IpAddr, len: usize, reliable: bool) -> Option<Instant> {
        let now = now();
        let link = *self
            .links
            .get(&pair(from, to))
            .unwrap_or(&self.default_link);
        let mut start = now;
        self.partitions.retain(|&(_, until)| until > now);
        if let Some(&(_, healed)) = self.partitions.iter().find(|(p, _)| *p == pair(from, to)) {
            if !reliable {
                return None;
            }
            start = healed; // TCP retransmits until the partition heals
        }
        if let Some(rate) = link.bytes_per_second.filter(|&r| r > 0) {
            let busy = self.busy_until.entry((from, to)).or_insert(start);
            let sending = Duration::from_secs_f64(len as f64 / rate as f64);
            start = (*busy).max(start) + sending;
            *busy = start;
        }
        if link.loss > 0.0 && self.rng.chance() < link.loss {
            if !reliable {
                return None;
            }
            start += RETRANSMISSION.max(link.latency * 2);
        }
        Some(start + link.latency)
    }

    /// Binds `addr` (port 0: a free one) to `what` in the table `table` picks
    /// (listeners or datagram sockets); `AddrInUse` if it is taken there.
    fn bind<T>(
        &mut self,
        addr: SocketAddr,
        what: &Arc<Mutex<T>>,
        table: impl FnOnce(&mut WorldState) -> &mut HashMap<SocketAddr, Arc<Mutex<T>>>,
    ) -> io::Result<SocketAddr> {
        let addr = match addr.port() {
            0 => SocketAddr::new(addr.ip(), self.port()),
            _ => addr,
        };
        let table = table(self);
        if table.contains_key(&addr) {
            let message = "address in use (simulated)";
            return Err(io::Error::new(io::ErrorKind::AddrInUse, message));
        }
        table.insert(addr, what.clone());
        Ok(addr)
    }

    /// A free port on `ip`.
    fn port(&mut self) -> u16 {
        self.next_port = self.next_port.checked_add(1).unwrap_or(49152);
        self.next_port
    }

    /// The listener for a connection to `addr` (bound to it, or to any address).
    fn listener(&self, addr: SocketAddr) -> Option<Arc<Mutex<Backlog>>> {
        let any = SocketAddr::new(unspecified(addr.ip()), addr.port());
        self.listeners
            .get(&addr)
            .or_else(|| self.listeners.get(&any))
            .cloned()
    }
}

/// When an answer sent now from `from` reaches `to` (TCP: it always does).
fn arrival_back(world: &World, from: IpAddr, to: IpAddr) -> Instant {
    let at = world.lock().arrival(from, to, 0, true);
    at.expect("TCP arrives")
}

fn pair(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

fn unspecified(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The network of the simulation runtime running here, or the error `what` gets.
pub(crate) fn the_world(what: &'static str) -> Result<Arc<World>, NetError> {
    crate::runtime::current_network().ok_or_else(|| {
        NetError::new(
            io::Error::other("not inside a simulation runtime (Builder::new().simulation(seed))"),
            what,
            None::<&str>,
        )
    })
}

/// What a wait finds: the thing, an instant to come back at, or nothing yet (the
/// waker was left where the thing will arrive).
enum Step<T> {
    Done(T),
    Until(Instant),
    Idle,
}

/// A wait on the simulated network: on the runtime's timer when the next event is
/// in flight, on a waker otherwise.
#[derive(Default)]
struct Waiter {
    timer: Option<Sleep>,
}

impl Waiter {
    /// Polls `check` until it is done, or waits; `on` is the address the task
    /// waits on, for a deadlock report (set before the timer, which then counts as
    /// this wait's, not as a sleep).
    fn poll<T>(
        &mut self,
        cx: &mut Context<'_>,
        on: SocketAddr,
        mut check: impl FnMut(&Waker) -> Step<T>,
    ) -> Poll<T> {
        loop {
            match check(cx.waker()) {
                Step::Done(value) => {
                    self.timer = None;
                    return Poll::Ready(value);
                }
                Step::Idle => {
                    self.timer = None;
                    crate::task::wait::on_simulated(on);
                    return Poll::Pending;
                }
                Step::Until(at) => {
                    if self.timer.as_ref().and_then(|t| t.deadline()) != Some(at) {
                        self.timer = Some(sleep_until(at));
                    }
                    let timer = self.timer.as_mut().expect("set just above");
                    crate::task::wait::on_simulated(on);
                    if Pin::new(timer).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    self.timer = None; // due: look again
                }
            }
        }
    }
}

// ---- TCP ----

/// Connections waiting for `accept`, each with the instant its SYN arrives.
#[derive(Debug, Default)]
struct Backlog {
    pending: VecDeque<(Instant, End)>,
    acceptor: Option<Waker>,
}

/// One direction of a connection: what the reading end has not read yet.
#[derive(Default)]
struct Pipe {
    segments: VecDeque<(Instant, Vec<u8>)>,
    /// Bytes of the front segment already read.
    offset: usize,
    /// When the writer's FIN arrives (after its last segment).
    fin: Option<Instant>,
    /// The latest arrival so far: TCP delivers in order.
    last: Option<Instant>,
    reset: bool,
    /// The reading end was dropped: a write gets `BrokenPipe`.
    reader_gone: bool,
    reader: Option<Waker>,
}

impl Pipe {
    fn wake(&mut self) {
        if let Some(waker) = self.reader.take() {
            waker.wake();
        }
    }
}

/// A TCP connection: `pipes[i]` is what end `i` reads (0: the client, 1: the server).
struct Connection {
    pipes: [Mutex<Pipe>; 2],
    ends: [SocketAddr; 2],
}

fn reset(connection: &Connection) {
    for pipe in &connection.pipes {
        let mut pipe = lock(pipe);
        pipe.reset = true;
        pipe.wake();
    }
}

/// The simulated side of a [`crate::net::TcpListener`].
#[derive(Debug)]
pub(crate) struct Listener {
    addr: SocketAddr,
    backlog: Arc<Mutex<Backlog>>,
    world: Arc<World>,
}

impl Listener {
    /// Listens on `addr` (port 0: a free port) in `world`.
    pub(crate) fn bind(world: Arc<World>, addr: SocketAddr) -> io::Result<Listener> {
        let backlog = Arc::new(Mutex::new(Backlog::default()));
        let addr = world
            .lock()
            .bind(addr, &backlog, |state| &mut state.listeners)?;
        Ok(Listener {
            addr,
            backlog,
            world,
        })
    }

    /// The next connection, once its SYN has crossed the link.
    pub(crate) async fn accept(&self) -> (End, SocketAddr) {
        let mut waiter = Waiter::default();
        let end = poll_fn(|cx| {
            waiter.poll(cx, self.addr, |waker| {
                let mut backlog = lock(&self.backlog);
                match backlog.pending.front() {
                    Some((at, _)) if *at <= now() => {
                        Step::Done(backlog.pending.pop_front().expect("just seen").1)
                    }
                    Some((at, _)) => {
                        let at = *at;
                        backlog.acceptor = Some(waker.clone());
                        Step::Until(at)
                    }
                    None => {
                        backlog.acceptor = Some(waker.clone());
                        Step::Idle
                    }
                }
            })
        })
        .await;
        let peer = end.peer;
        (end, peer)
    }

    /// The address it listens on.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.world.lock().listeners.remove(&self.addr);
        // Connections nobody accepted: their clients read a reset.
        let pending = std::mem::take(&mut lock(&self.backlog).pending);
        for (_, end) in pending {
            reset(&end.connection);
        }
    }
}

/// One end of a simulated TCP connection: what a [`crate::net::TcpStream`] holds
/// on a simulation runtime instead of a socket.
pub(crate) struct End {
    connection: Arc<Connection>,
    /// Which end this is: it reads `pipes[side]`, writes `pipes[1 - side]`.
    side: usize,
    local: SocketAddr,
    peer: SocketAddr,
    world: Arc<World>,
    /// The reader's timer (a stream's halves share the end; only reads wait).
    waiter: Mutex<Waiter>,
}

impl std::fmt::Debug for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "simulated TCP {} -> {}", self.local, self.peer)
    }
}

impl End {
    /// Connects from host `local` to `addr`: the SYN crosses the link, and the
    /// connection is made (or refused) when the answer has crossed it back.
    pub(crate) async fn connect(
        world: Arc<World>,
        local: IpAddr,
        addr: SocketAddr,
    ) -> io::Result<End> {
        let (local, there, listener) = {
            let mut state = world.lock();
            let local = SocketAddr::new(local, state.port());
            let there = state.arrival(local.ip(), addr.ip(), 0, true);
            (local, there.expect("TCP arrives"), state.listener(addr))
        };
        let Some(listener) = listener else {
            sleep_until(there).await;
            let back = arrival_back(&world, addr.ip(), local.ip());
            sleep_until(back).await;
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "connection refused (simulated: nobody listens there)",
            ));
        };
        let connection = Arc::new(Connection {
            pipes: Default::default(),
            ends: [local, addr],
        });
        world.lock().connections.push(Arc::downgrade(&connection));
        let end = |side: usize| End {
            connection: connection.clone(),
            side,
            local: connection.ends[side],
            peer: connection.ends[1 - side],
            world: world.clone(),
            waiter: Mutex::default(),
        };
        let (client, server) = (end(0), end(1));
        {
            let mut backlog = lock(&listener);
            backlog.pending.push_back((there, server));
            if let Some(waker) = backlog.acceptor.take() {
                waker.wake();
            }
        }
        sleep_until(there).await;
        let back = arrival_back(&world, addr.ip(), local.ip());
        sleep_until(back).await;
        Ok(client)
    }

    /// This end's address.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The other end's address.
    pub(crate) fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Reads what has arrived, at least one byte; `Ok(0)` at the end of the stream.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let (connection, side, peer) = (&self.connection, self.side, self.peer);
        lock(&self.waiter).poll(cx, peer, |waker| {
            let mut pipe = lock(&connection.pipes[side]);
            if pipe.reset {
                return Step::Done(Err(io::ErrorKind::ConnectionReset.into()));
            }
            pipe.reader = Some(waker.clone());
            let now = now();
            if let Some(&(at, _)) = pipe.segments.front() {
                if at > now {
                    return Step::Until(at);
                }
                let offset = pipe.offset;
                let segment = &pipe.segments[0].1;
                let n = buf.len().min(segment.len() - offset);
                buf[..n].copy_from_slice(&segment[offset..offset + n]);
                if offset + n == segment.len() {
                    pipe.segments.pop_front();
                    pipe.offset = 0;
                } else {
                    pipe.offset += n;
                }
                return Step::Done(Ok(n));
            }
            match pipe.fin {
                Some(at) if at <= now => Step::Done(Ok(0)),
                Some(at) => Step::Until(at),
                None => Step::Idle,
            }
        })
    }

    /// Sends all of `buf` (the simulated queues have no limit).
    pub(crate) fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let mut pipe = lock(&self.connection.pipes[1 - self.side]);
        if pipe.reset {
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        if pipe.reader_gone {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let at = self
            .world
            .lock()
            .arrival(self.local.ip(), self.peer.ip(), buf.len(), true);
        let at = at.expect("TCP arrives").max(pipe.last.unwrap_or(now()));
        pipe.last = Some(at);
        pipe.segments.push_back((at, buf.to_vec()));
        pipe.wake();
        Ok(buf.len())
    }

    /// `Shutdown::Write` (or `Both`): the peer reads the end of the stream once the
    /// bytes before it have arrived. `Shutdown::Read`: later bytes are dropped.
    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            let mut pipe = lock(&self.connection.pipes[self.side]);
            pipe.reader_gone = true;
            pipe.segments.clear();
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            self.finish();
        }
        Ok(())
    }

    fn finish(&self) {
        let mut pipe = lock(&self.connection.pipes[1 - self.side]);
        if pipe.fin.is_none() {
            let at = self
                .world
                .lock()
                .arrival(self.local.ip(), self.peer.ip(), 0, true);
            let at = at.expect("TCP arrives").max(pipe.last.unwrap_or(now()));
            pipe.fin = Some(at);
            pipe.wake();
        }
    }
}

impl Drop for End {
    fn drop(&mut self) {
        // Outside its runtime (a stream dropped after it) no instant can be read:
        // the peer is told at once.
        if crate::runtime::current_network().is_some() {
            self.finish();
        } else {
            let mut pipe = lock(&self.connection.pipes[1 - self.side]);
            pipe.fin.get_or_insert_with(Instant::now);
            pipe.wake();
        }
        lock(&self.connection.pipes[self.side]).reader_gone = true;
    }
}

/// Connects to `addr` from host `local` (a [`crate::net::TcpStream`] on the
/// simulated network; [`crate::net::TcpStream::connect`] connects from
/// [`CLIENT_HOST`], or from the loopback address to a loopback address).
///
/// # Errors
///
/// Outside a simulation runtime; `ConnectionRefused` when nobody listens at `addr`
/// (after one round trip).
pub async fn connect_from(local: IpAddr, addr: SocketAddr) -> Result<TcpStream, NetError> {
    let world = the_world("connect to")?;
    End::connect(world, local, addr)
        .await
        .map(TcpStream::from_simulated)
        .map_err(|error| NetError::new(error, "connect to", Some(addr)))
}

/// The host a connection to `addr` leaves from: the loopback address for a
/// loopback `addr`, [`CLIENT_HOST`] otherwise.
pub(crate) fn local_host_for(addr: SocketAddr) -> IpAddr {
    if addr.ip().is_loopback() {
        addr.ip()
    } else {
        CLIENT_HOST
    }
}

// ---- UDP ----

/// Datagrams that arrived (or are on their way) at a bound address.
#[derive(Default)]
struct Mailbox {
    datagrams: VecDeque<(Instant, SocketAddr, Vec<u8>)>,
    reader: Option<Waker>,
}

/// The simulated side of a [`crate::net::UdpSocket`].
pub(crate) struct Datagrams {
    addr: SocketAddr,
    mailbox: Arc<Mutex<Mailbox>>,
    world: Arc<World>,
    peer: Mutex<Option<SocketAddr>>,
}

impl std::fmt::Debug for Datagrams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "simulated UDP {}", self.addr)
    }
}

impl Datagrams {
    /// A socket bound to `addr` (port 0: a free port) in `world`.
    pub(crate) fn bind(world: Arc<World>, addr: SocketAddr) -> io::Result<Datagrams> {
        let mailbox = Arc::new(Mutex::new(Mailbox::default()));
        let addr = world
            .lock()
            .bind(addr, &mailbox, |state| &mut state.datagrams)?;
        Ok(Datagrams {
            addr,
            mailbox,
            world,
            peer: Mutex::new(None),
        })
    }

    /// The address it is bound to.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The default peer, set by [`connect`](Self::connect).
    pub(crate) fn peer(&self) -> Option<SocketAddr> {
        *lock(&self.peer)
    }

    /// Sets the default peer.
    pub(crate) fn connect(&self, target: SocketAddr) {
        *lock(&self.peer) = Some(target);
    }

    /// Sends one datagram to `target`; a lost one is gone, as on a real network
    /// (and so is one sent where nobody is bound).
    pub(crate) fn send_to(&self, buf: &[u8], target: SocketAddr) -> usize {
        let (arrival, mailbox) = {
            let mut state = self.world.lock();
            let arrival = state.arrival(self.addr.ip(), target.ip(), buf.len(), false);
            (arrival, state.datagrams.get(&target).cloned())
        };
        if let (Some(at), Some(mailbox)) = (arrival, mailbox) {
            let mut mailbox = lock(&mailbox);
            // Datagrams may overtake each other on a real network; here a later
            // one never arrives first (one latency per link).
            mailbox.datagrams.push_back((at, self.addr, buf.to_vec()));
            if let Some(waker) = mailbox.reader.take() {
                waker.wake();
            }
        }
        buf.len()
    }

    /// The next datagram (from the connected peer only, once connected) and who
    /// sent it, cut to `buf`'s length.
    pub(crate) async fn recv_from(&self, buf: &mut [u8]) -> (usize, SocketAddr) {
        let only = self.peer();
        let mut waiter = Waiter::default();
        let (from, bytes) = poll_fn(|cx| {
            waiter.poll(cx, self.addr, |waker| {
                let mut mailbox = lock(&self.mailbox);
                mailbox.reader = Some(waker.clone());
                loop {
                    match mailbox.datagrams.front() {
                        Some((at, _, _)) if *at > now() => return Step::Until(*at),
                        Some((_, from, _)) if only.is_some_and(|peer| peer != *from) => {
                            mailbox.datagrams.pop_front(); // not from the peer: dropped
                        }
                        Some(_) => {
                            let (_, from, bytes) = mailbox.datagrams.pop_front().expect("seen");
                            return Step::Done((from, bytes));
                        }
                        None => return Step::Idle,
                    }
                }
            })
        })
        .await;
        let n = buf.len().min(bytes.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        (n, from)
    }
}

impl Drop for Datagrams {
    fn drop(&mut self) {
        self.world.lock().datagrams.remove(&self.addr);
    }
}
