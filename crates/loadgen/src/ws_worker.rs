//! `loadgen ws-worker`: one process of the WebSocket load run (started by
//! `loadgen ws`, never by hand).
//!
//! It reads its rooms (code and host token) as one JSON line on stdin, connects
//! every member of each room (the host with its token, the others as new voters;
//! sockets bound round-robin to loopback source addresses), then reports `ready`
//! as a JSON line on stdout and waits for `go` on stdin. From `go` it votes at its
//! share of the total rate for `hold`, reads every frame at every member, and
//! finally reports `done` with its counts and latency histogram. A vote's send and
//! its arrivals are in this process, timed with one monotonic clock.
//!
//! Everything is bounded: connects have a timeout, waiting for `go` has one, and
//! the room tasks stop at the end of the hold whatever happens.
//!
//! Against a cluster (several `--addr`, the proxies), member `n` connects to the
//! `n`-th address round-robin, and with `--reconnect` a member whose socket drops
//! takes its seat back with its token (bounded retries and time), then checks that
//! the card the room shows as its own is the last vote it had an ack for.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::stream::{self, FuturesUnordered, SelectAll, SplitSink};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::ws_room::{Room, Stage};

/// How the coordinator configures a worker (its command-line flags).
#[derive(clap::Args, Debug, Clone)]
pub struct WorkerArgs {
    /// The server, or the proxies of a cluster (comma-separated; members are
    /// spread over them round-robin).
    #[arg(long, value_delimiter = ',', required = true)]
    pub addr: Vec<SocketAddr>,
    /// Members per room, the host included.
    #[arg(long)]
    pub per_room: usize,
    /// Votes per second this worker sends, over all its rooms.
    #[arg(long)]
    pub rate: f64,
    /// Seconds of voting after `go`.
    #[arg(long)]
    pub hold: f64,
    /// Loopback source addresses (127.0.0.`first` onwards).
    #[arg(long, default_value_t = 2)]
    pub first_source: u8,
    /// How many source addresses.
    #[arg(long, default_value_t = 8)]
    pub sources: u8,
    /// Rooms connecting at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Seconds one member gets from connect to its `welcome`.
    #[arg(long, default_value_t = 20.0)]
    pub connect_timeout: f64,
    /// Seconds to wait for `go` once ready.
    #[arg(long, default_value_t = 600.0)]
    pub go_timeout: f64,
    /// Seconds a member whose socket dropped keeps trying to take its seat back
    /// (0: it stays away).
    #[arg(long, default_value_t = 0.0)]
    pub reconnect: f64,
    /// The first character of the codes of rooms whose drops are expected (the
    /// shard whose node the run kills): counted apart from unexpected ones.
    #[arg(long)]
    pub expect_drop: Option<char>,
}

/// One room as the coordinator hands it over.
#[derive(Debug, Clone)]
struct RoomPlan {
    code: String,
    host_token: String,
}

type Ws = WebSocketStream<TcpStream>;
type Sink = SplitSink<Ws, Message>;

/// Counts of the whole worker, shared by its room tasks (one thread).
struct Tally {
    latency: Histogram<u64>,
    /// The worst latency (ms) of the arrivals in each second after `go`.
    worst: Vec<u64>,
    votes: u64,
    expected: u64,
    delivered: u64,
    /// Arrivals given up (reveal after the patience, a closed member, the end).
    lost: u64,
    disconnects: u64,
    errors: u64,
    messages: BTreeMap<String, u64>,
    frames: u64,
    rounds: u64,
    /// Disconnects in rooms whose drops are expected (`--expect-drop`).
    dropped: u64,
    /// Arrivals given up in those rooms.
    lost_dropped: u64,
    /// Seats taken back after a drop, and members that gave up trying.
    rejoined: u64,
    rejoin_failed: u64,
    /// Votes the server acknowledged.
    acked: u64,
    /// Acknowledged votes found (or not) as the member's card after it rejoined.
    votes_kept: u64,
    votes_missing: u64,
    /// Unix ms of the first expected drop and of the last seat taken back after one.
    first_drop_ms: u64,
    last_back_ms: u64,
}

impl Tally {
    fn note(&mut self, what: String) {
        let key: String = what
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .take(120)
            .collect();
        *self.messages.entry(key).or_default() += 1;
    }
}

/// A vote's arrivals are awaited this long before the host reveals anyway.
const PATIENCE: Duration = Duration::from_secs(30);
/// How long after the hold every room keeps reading for the last arrivals.
const DRAIN: Duration = Duration::from_secs(3);
/// A room stuck revealing or resetting this long gets the host's command again.
const STAGE_RETRY: Duration = Duration::from_secs(30);
/// Attempts of one rejoin at most (each bounded, and all by `--reconnect`).
const REJOIN_ATTEMPTS: u32 = 200;
/// One rejoin attempt's limit (connect, handshake, welcome).
const REJOIN_ATTEMPT: Duration = Duration::from_secs(10);
/// The longest pause between rejoin attempts.
const REJOIN_BACKOFF: Duration = Duration::from_secs(2);

/// Runs the worker; its only output is the JSON lines on stdout.
pub fn main(args: WorkerArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, run(args))
}

fn emit(value: Value) {
    println!("{value}");
}

async fn run(args: WorkerArgs) -> Result<()> {
    if args.per_room < 2 || args.per_room > Room::MAX_MEMBERS {
        bail!("--per-room must be 2..={}", Room::MAX_MEMBERS);
    }
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let first = stdin
        .next_line()
        .await?
        .context("stdin closed before the rooms")?;
    let rooms: Vec<RoomPlan> = serde_json::from_str::<Vec<Value>>(&first)
        .context("the rooms line")?
        .iter()
        .map(|r| {
            Ok(RoomPlan {
                code: r["code"].as_str().context("room code")?.to_owned(),
                host_token: r["hostToken"].as_str().context("host token")?.to_owned(),
            })
        })
        .collect::<Result<_>>()?;
    let tally = Rc::new(RefCell::new(Tally {
        latency: Histogram::new_with_bounds(1, 3_600_000_000, 3)?,
        worst: Vec::new(),
        votes: 0,
        expected: 0,
        delivered: 0,
        lost: 0,
        disconnects: 0,
        errors: 0,
        messages: BTreeMap::new(),
        frames: 0,
        rounds: 0,
        dropped: 0,
        lost_dropped: 0,
        rejoined: 0,
        rejoin_failed: 0,
        acked: 0,
        votes_kept: 0,
        votes_missing: 0,
        first_drop_ms: 0,
        last_back_ms: 0,
    }));
    // `None` until go; then the start and the end of the hold.
    let (go_tx, go_rx) = watch::channel::<Option<(Instant, Instant)>>(None);
    let semaphore = Rc::new(Semaphore::new(args.concurrency.max(1)));
    let connected = Rc::new(RefCell::new((0u64, 0u64)));
    let started = Instant::now();
    let vote_every = if args.rate > 0.0 {
        Duration::from_secs_f64(rooms.len() as f64 / args.rate)
    } else {
        Duration::MAX
    };
    let mut tasks = Vec::new();
    let mut ready_rx = Vec::new();
    for (i, plan) in rooms.into_iter().enumerate() {
        let (ready, ready_wait) = tokio::sync::oneshot::channel::<()>();
        ready_rx.push(ready_wait);
        let expected = args.expect_drop.is_some_and(|c| plan.code.starts_with(c));
        let ctx = RoomCtx {
            expected,
            args: args.clone(),
            plan,
            index: i,
            tally: tally.clone(),
            go: go_rx.clone(),
            semaphore: semaphore.clone(),
            connected: connected.clone(),
            vote_every,
        };
        tasks.push(tokio::task::spawn_local(room_task(ctx, ready)));
    }
    for r in ready_rx {
        let _ = r.await;
    }
    let (ok, failed) = *connected.borrow();
    emit(json!({
        "event": "ready",
        "connected": ok,
        "failed": failed,
        "secs": started.elapsed().as_secs_f64(),
        "failures": tally.borrow().messages,
    }));
    let go = tokio::time::timeout(Duration::from_secs_f64(args.go_timeout), stdin.next_line())
        .await
        .map_err(|_| anyhow!("no `go` within {} s", args.go_timeout))??;
    if go.as_deref().map(str::trim) != Some("go") {
        bail!("expected `go` on stdin, got {go:?}");
    }
    tally.borrow_mut().messages.clear();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(args.hold);
    let _ = go_tx.send(Some((start, end)));
    for t in tasks {
        let _ = t.await;
    }
    let t = tally.borrow();
    let hist: Vec<[u64; 2]> = t
        .latency
        .iter_recorded()
        .map(|v| [v.value_iterated_to(), v.count_at_value()])
        .collect();
    emit(json!({
        "event": "done",
        "votes": t.votes,
        "expected": t.expected,
        "delivered": t.delivered,
        "lost": t.lost,
        "disconnects": t.disconnects,
        "errors": t.errors,
        "messages": t.messages,
        "frames": t.frames,
        "rounds": t.rounds,
        "secs": start.elapsed().as_secs_f64(),
        "cpu": crate::server::own_cpu_time().map(|d| d.as_secs_f64()).unwrap_or(0.0),
        "hist": hist,
        "worst": t.worst,
        "dropped": t.dropped,
        "lost_dropped": t.lost_dropped,
        "rejoined": t.rejoined,
        "rejoin_failed": t.rejoin_failed,
        "acked": t.acked,
        "votes_kept": t.votes_kept,
        "votes_missing": t.votes_missing,
        "first_drop_ms": t.first_drop_ms,
        "last_back_ms": t.last_back_ms,
    }));
    Ok(())
}

struct RoomCtx {
    /// The room's drops are expected (its shard's node is killed).
    expected: bool,
    args: WorkerArgs,
    plan: RoomPlan,
    index: usize,
    tally: Rc<RefCell<Tally>>,
    go: watch::Receiver<Option<(Instant, Instant)>>,
    semaphore: Rc<Semaphore>,
    connected: Rc<RefCell<(u64, u64)>>,
    vote_every: Duration,
}

/// A connected member: its socket, participant id and seat token.
struct Member {
    ws: Ws,
    id: String,
    token: String,
}

/// Where member `m` of room `index` connects: the proxy (round-robin over
/// `--addr`) and the loopback source address, so that no (source, destination)
/// pair needs more than its share of ephemeral ports.
fn route(args: &WorkerArgs, index: usize, m: usize) -> (SocketAddr, Ipv4Addr) {
    let n = index * args.per_room + m;
    let targets = args.addr.len().max(1);
    let addr = args.addr[n % targets];
    let sources = usize::from(args.sources.max(1));
    let source = Ipv4Addr::new(
        127,
        0,
        0,
        args.first_source
            .saturating_add(((n / targets) % sources) as u8),
    );
    (addr, source)
}

/// Leaves the choice of the local port to `connect` (`IP_BIND_ADDRESS_NO_PORT`).
/// A port picked at `bind` is reserved for every destination and every local
/// address, so 100,000 bound client sockets would use up the machine's whole
/// ephemeral range, and a proxy on the same machine could no longer connect to
/// its backends ("Out of local source ports"). Picked at `connect`, a port is
/// only unique per (source, destination) pair.
fn no_port_at_bind(socket: &TcpSocket) -> Result<()> {
    use std::os::fd::AsRawFd;
    let one: libc::c_int = 1;
    // SAFETY: setsockopt reads `one` (an int, its size given) on a socket we own.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error()).context("IP_BIND_ADDRESS_NO_PORT");
    }
    Ok(())
}

/// Connects one member: TCP from `source`, the WebSocket handshake (4 KiB buffers,
/// eager writes), the join (a new voter, or the seat of `token`), and its
/// `welcome`.
async fn connect_member(
    addr: SocketAddr,
    source: Ipv4Addr,
    code: &str,
    name: &str,
    token: Option<&str>,
) -> Result<Member> {
    let socket = TcpSocket::new_v4()?;
    no_port_at_bind(&socket)?;
    socket
        .bind(SocketAddr::new(source.into(), 0))
        .with_context(|| format!("binding to {source}"))?;
    let tcp = socket.connect(addr).await.context("TCP connect")?;
    tcp.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let url = format!("ws://{addr}/ws/rooms/{code}");
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config))
        .await
        .context("WebSocket handshake")?;
    let mut join = json!({"type": "join", "name": name, "role": "voter"});
    if let Some(t) = token {
        join["token"] = json!(t);
    }
    ws.send(Message::text(join.to_string())).await?;
    while let Some(msg) = ws.next().await {
        if let Message::Text(text) = msg? {
            // JSON objects of the server's `json!` frames have sorted keys.
            let v: Value = serde_json::from_str(&text)?;
            match v["type"].as_str() {
                Some("welcome") => {
                    let id = v["participantId"]
                        .as_str()
                        .context("welcome without participantId")?;
                    // A new seat's token comes with its welcome; a resumed one keeps its own.
                    let token = v["token"]
                        .as_str()
                        .or(token)
                        .context("welcome without a token")?;
                    return Ok(Member {
                        ws,
                        id: id.to_owned(),
                        token: token.to_owned(),
                    });
                }
                Some("error") => bail!("join refused: {text}"),
                _ => {}
            }
        }
    }
    bail!("closed before welcome")
}

/// One room from connect to the end of the hold.
async fn room_task(mut ctx: RoomCtx, ready: tokio::sync::oneshot::Sender<()>) {
    let members = connect_room(&ctx).await;
    let _ = ready.send(());
    let Some(members) = members else {
        return;
    };
    play(&mut ctx, members).await;
}

/// Connects every member of the room, the host first; `None` when any fails.
async fn connect_room(ctx: &RoomCtx) -> Option<Vec<Member>> {
    let _permit = ctx.semaphore.acquire().await.ok()?;
    let mut members = Vec::with_capacity(ctx.args.per_room);
    let timeout = Duration::from_secs_f64(ctx.args.connect_timeout);
    for m in 0..ctx.args.per_room {
        let (addr, source) = route(&ctx.args, ctx.index, m);
        let token = (m == 0).then_some(ctx.plan.host_token.as_str());
        let name = format!("P{m}");
        let r = tokio::time::timeout(
            timeout,
            connect_member(addr, source, &ctx.plan.code, &name, token),
        )
        .await
        .unwrap_or_else(|_| Err(anyhow!("no welcome within {timeout:?}")));
        match r {
            Ok(member) => {
                ctx.connected.borrow_mut().0 += 1;
                members.push(member);
            }
            Err(e) => {
                let mut c = ctx.connected.borrow_mut();
                c.1 += (ctx.args.per_room - m) as u64;
                ctx.tally.borrow_mut().note(format!("connect: {e:#}"));
                return None;
            }
        }
    }
    Some(members)
}

/// What one member's stream yields: a message, or its end; with the generation
/// of the member's socket (a rejoin starts a new one, and the old one's late
/// events are ignored).
type Event = (
    usize,
    u32,
    Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
);

/// The write side of a room's members and what rejoining needs of each.
struct Seats {
    sinks: Vec<Option<Sink>>,
    /// The socket generation of each member (one more at each rejoin).
    gens: Vec<u32>,
    tokens: Vec<String>,
    /// The card of a vote sent and not acknowledged yet, by member.
    pending: Vec<Option<&'static str>>,
    /// The last acknowledged card of this round, by member.
    acked: Vec<Option<&'static str>>,
    /// Members whose next view must show their acknowledged card (just rejoined).
    verify: u128,
    /// Members with a rejoin under way, and members that gave up.
    rejoining: u128,
    gave_up: u128,
}

impl Seats {
    /// Members whose socket is gone and who should try to come back now.
    fn to_rejoin(&self) -> impl Iterator<Item = usize> + '_ {
        let busy = self.rejoining | self.gave_up;
        self.sinks
            .iter()
            .enumerate()
            .filter(move |(m, s)| s.is_none() && busy & (1 << m) == 0)
            .map(|(m, _)| m)
    }
}

/// A member's stream of events, tagged with its index and socket generation.
fn member_stream(
    read: futures_util::stream::SplitStream<Ws>,
    m: usize,
    generation: u32,
) -> futures_util::stream::LocalBoxStream<'static, Event> {
    read.map(move |msg| -> Event { (m, generation, Some(msg)) })
        .chain(stream::once(async move { (m, generation, None) }))
        .boxed_local()
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Takes a seat back with its token: attempts bounded in count, each in time,
/// and all of them by `budget`, with a growing, jittered pause between them.
async fn rejoin(
    addr: SocketAddr,
    source: Ipv4Addr,
    code: String,
    name: String,
    token: String,
    budget: Duration,
) -> Result<Member> {
    let deadline = Instant::now() + budget;
    let mut pause = Duration::from_millis(250);
    let mut last = anyhow!("no attempt in {budget:?}");
    for _ in 0..REJOIN_ATTEMPTS {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let attempt = connect_member(addr, source, &code, &name, Some(&token));
        match tokio::time::timeout(left.min(REJOIN_ATTEMPT), attempt).await {
            Ok(Ok(member)) => return Ok(member),
            Ok(Err(e)) => last = e,
            Err(_) => last = anyhow!("an attempt took over {REJOIN_ATTEMPT:?}"),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(pause.mul_f64(0.5 + fastrand::f64()).min(left)).await;
        pause = (pause * 2).min(REJOIN_BACKOFF);
    }
    Err(last.context("rejoin gave up"))
}

type Rejoin = std::pin::Pin<Box<dyn std::future::Future<Output = (usize, Result<Member>)>>>;

async fn play(ctx: &mut RoomCtx, members: Vec<Member>) {
    let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
    let mut room = Room::new(&ids, Instant::now());
    let n = members.len();
    let mut seats = Seats {
        sinks: Vec::with_capacity(n),
        gens: vec![0; n],
        tokens: Vec::with_capacity(n),
        pending: vec![None; n],
        acked: vec![None; n],
        verify: 0,
        rejoining: 0,
        gave_up: 0,
    };
    let mut streams: SelectAll<_> = SelectAll::new();
    for (i, member) in members.into_iter().enumerate() {
        let (sink, read) = member.ws.split();
        seats.sinks.push(Some(sink));
        seats.tokens.push(member.token);
        streams.push(member_stream(read, i, 0));
    }
    let mut rejoins: FuturesUnordered<Rejoin> = FuturesUnordered::new();
    // Before go: read (and so answer pings), send nothing.
    let (start, end) = loop {
        if let Some(window) = *ctx.go.borrow() {
            break window;
        }
        tokio::select! {
            changed = ctx.go.changed() => if changed.is_err() { return; },
            ev = streams.next() => match ev {
                Some(ev) => { handle(ctx, &mut room, &mut seats, ev).await; }
                None => return,
            },
        }
    };
    let reconnect = Duration::from_secs_f64(ctx.args.reconnect.clamp(0.0, 3600.0));
    // The first vote of each room falls somewhere in its first interval.
    let spread = ctx.vote_every.min(Duration::from_secs(3600));
    let mut next_vote = start + spread.mul_f64(fastrand::f64());
    let mut retry = tokio::time::interval(Duration::from_millis(500));
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if !reconnect.is_zero() {
            let gone: Vec<usize> = seats.to_rejoin().collect();
            for m in gone {
                seats.rejoining |= 1 << m;
                let (addr, source) = route(&ctx.args, ctx.index, m);
                let budget = reconnect.min(end.saturating_duration_since(now));
                let attempt = rejoin(
                    addr,
                    source,
                    ctx.plan.code.clone(),
                    format!("P{m}"),
                    seats.tokens[m].clone(),
                    budget,
                );
                rejoins.push(Box::pin(async move { (m, attempt.await) }));
            }
        }
        let can_vote = room.next_voter(0).is_some();
        tokio::select! {
            Some(ev) = streams.next(), if !streams.is_empty() => {
                handle(ctx, &mut room, &mut seats, ev).await;
            }
            Some((m, result)) = rejoins.next(), if !rejoins.is_empty() => {
                seats.rejoining &= !(1 << m);
                back(ctx, &mut room, &mut seats, &mut streams, m, result);
            }
            _ = tokio::time::sleep_until(next_vote.into()), if can_vote => {
                if let Some(voter) = room.next_voter(fastrand::usize(..)) {
                    let card = ["1", "2", "3", "5", "8", "13"][fastrand::usize(..6)];
                    let frame = json!({"type": "vote", "value": card}).to_string();
                    let sent = Instant::now();
                    seats.pending[voter] = Some(card);
                    if send(ctx, &mut room, &mut seats, voter, frame).await {
                        let expected = room.voted(voter, sent);
                        let mut t = ctx.tally.borrow_mut();
                        t.votes += 1;
                        t.expected += expected;
                    }
                }
                // Evenly spread on average, jittered ±50%.
                next_vote += spread.mul_f64(0.5 + fastrand::f64());
            }
            _ = tokio::time::sleep_until(end.into()) => break,
            _ = retry.tick() => {
                let now = Instant::now();
                if room.ready_to_reveal(now, PATIENCE) {
                    let lost = room.revealing(now);
                    give_up(ctx, lost);
                    ctx.tally.borrow_mut().rounds += 1;
                    send(ctx, &mut room, &mut seats, 0, r#"{"type":"reveal"}"#.into()).await;
                } else if room.stage() != Stage::Voting && room.stage_age(now) > STAGE_RETRY {
                    let again = if room.stage() == Stage::Revealing { "reveal" } else { "reset" };
                    ctx.tally.borrow_mut().note(format!("host repeated {again}"));
                    room.retried(now);
                    send(ctx, &mut room, &mut seats, 0, json!({"type": again}).to_string()).await;
                }
            }
        }
    }
    // Let the last votes arrive, then close every socket. Every room reads until
    // the same instant, so no room's closing (19,000 leaves at once) delays the
    // last arrivals of another.
    let drain_until = tokio::time::Instant::from_std(end + DRAIN);
    while let Ok(Some(ev)) = tokio::time::timeout_at(drain_until, streams.next()).await {
        handle(ctx, &mut room, &mut seats, ev).await;
    }
    give_up(ctx, room.pending_arrivals());
    drop(rejoins);
    for sink in seats.sinks.iter_mut().flatten() {
        let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(Message::Close(None))).await;
    }
    // Read until the server's close (bounded), so it sees a clean close.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while streams.next().await.is_some() {}
    })
    .await;
}

/// Arrivals given up, counted apart in a room whose drops are expected.
fn give_up(ctx: &RoomCtx, lost: u64) {
    let mut t = ctx.tally.borrow_mut();
    if ctx.expected {
        t.lost_dropped += lost;
    } else {
        t.lost += lost;
    }
}

/// A rejoin ended: the member is back (its next view is checked) or gave up.
fn back(
    ctx: &RoomCtx,
    room: &mut Room,
    seats: &mut Seats,
    streams: &mut SelectAll<futures_util::stream::LocalBoxStream<'static, Event>>,
    m: usize,
    result: Result<Member>,
) {
    let mut t = ctx.tally.borrow_mut();
    match result {
        Ok(member) => {
            let (sink, read) = member.ws.split();
            seats.gens[m] = seats.gens[m].wrapping_add(1);
            seats.sinks[m] = Some(sink);
            streams.push(member_stream(read, m, seats.gens[m]));
            seats.verify |= 1 << m;
            // A vote sent but never acknowledged may or may not have been kept.
            seats.pending[m] = None;
            room.rejoined(m);
            t.rejoined += 1;
            if ctx.expected {
                t.last_back_ms = t.last_back_ms.max(unix_ms());
            }
        }
        Err(e) => {
            seats.gave_up |= 1 << m;
            t.rejoin_failed += 1;
            t.note(format!("rejoin: {e:#}"));
        }
    }
}

/// Sends `frame` from `member`; a failure counts as that member's disconnect.
async fn send(
    ctx: &RoomCtx,
    room: &mut Room,
    seats: &mut Seats,
    member: usize,
    frame: String,
) -> bool {
    let Some(sink) = seats.sinks.get_mut(member).and_then(Option::as_mut) else {
        return false;
    };
    match sink.send(Message::text(frame)).await {
        Ok(()) => true,
        Err(e) => {
            closed(ctx, room, seats, member, format!("send: {e}"));
            false
        }
    }
}

async fn handle(
    ctx: &RoomCtx,
    room: &mut Room,
    seats: &mut Seats,
    (member, generation, msg): Event,
) {
    if seats.gens.get(member) != Some(&generation) {
        return; // a socket replaced by a rejoin
    }
    let at = Instant::now();
    match msg {
        Some(Ok(Message::Text(text))) => {
            let before = room.stage();
            let seen = room.frame(member, &text, at);
            if before == Stage::Resetting && room.stage() == Stage::Voting {
                // A new round: nobody's card is in it yet.
                seats.acked.fill(None);
                seats.pending.fill(None);
            }
            let is_view = text.starts_with("{\"type\":\"view\"");
            {
                let mut t = ctx.tally.borrow_mut();
                t.frames += 1;
                if !is_view && text.contains("\"type\":\"error\"") {
                    t.errors += 1;
                    t.note(format!(
                        "error frame: {}",
                        text.chars().take(160).collect::<String>()
                    ));
                }
                if !is_view
                    && text.contains("\"type\":\"ack\"")
                    && text.contains("\"action\":\"vote\"")
                {
                    if let Some(card) = seats.pending[member].take() {
                        seats.acked[member] = Some(card);
                        t.acked += 1;
                    }
                }
                if is_view && seats.verify & (1 << member) != 0 {
                    seats.verify &= !(1 << member);
                    // After a reset the acknowledged card is rightly gone.
                    if room.stage() != Stage::Resetting {
                        if let Some(want) = seats.acked[member] {
                            let card = serde_json::from_str::<Value>(&text)
                                .ok()
                                .and_then(|v| v["viewer"]["card"].as_str().map(str::to_owned));
                            if card.as_deref() == Some(want) {
                                t.votes_kept += 1;
                            } else {
                                t.votes_missing += 1;
                                t.note(format!(
                                    "acknowledged vote missing after rejoin (card {card:?})"
                                ));
                            }
                        }
                    }
                }
                let second = ctx
                    .go
                    .borrow()
                    .map(|(start, _)| at.saturating_duration_since(start).as_secs() as usize);
                for d in &seen.arrivals {
                    if let Some(second) = second.filter(|s| *s < 24 * 3600) {
                        if t.worst.len() <= second {
                            t.worst.resize(second + 1, 0);
                        }
                        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
                        t.worst[second] = t.worst[second].max(ms);
                    }
                    t.delivered += 1;
                    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
                    let _ = t.latency.record(us);
                }
            }
            if seen.send_reset {
                send(ctx, room, seats, 0, r#"{"type":"reset"}"#.into()).await;
            }
        }
        // The server's reason, if any, before the stream ends.
        Some(Ok(Message::Close(Some(frame)))) if !ctx.expected => {
            let reason: String = frame.reason.chars().take(80).collect();
            ctx.tally
                .borrow_mut()
                .note(format!("close frame {}: {reason}", u16::from(frame.code)));
        }
        // tungstenite answers pings itself while the stream is read.
        Some(Ok(_)) => {}
        Some(Err(e)) => {
            closed(ctx, room, seats, member, format!("read: {e}"));
        }
        None => closed(ctx, room, seats, member, "closed by the server".into()),
    }
}

fn closed(ctx: &RoomCtx, room: &mut Room, seats: &mut Seats, member: usize, why: String) {
    let Some(slot) = seats.sinks.get_mut(member) else {
        return;
    };
    if slot.is_none() {
        return;
    }
    *slot = None;
    let lost = room.lost(member);
    give_up(ctx, lost);
    let mut t = ctx.tally.borrow_mut();
    if ctx.expected {
        t.dropped += 1;
        if t.first_drop_ms == 0 {
            t.first_drop_ms = unix_ms();
        }
        // Expected: its reasons would only hide the unexpected ones.
    } else {
        t.disconnects += 1;
        t.note(why);
    }
}
