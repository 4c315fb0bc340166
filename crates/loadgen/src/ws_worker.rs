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

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::stream::{self, SelectAll, SplitSink};
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
    /// The server.
    #[arg(long)]
    pub addr: SocketAddr,
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
        let ctx = RoomCtx {
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
    }));
    Ok(())
}

struct RoomCtx {
    args: WorkerArgs,
    plan: RoomPlan,
    index: usize,
    tally: Rc<RefCell<Tally>>,
    go: watch::Receiver<Option<(Instant, Instant)>>,
    semaphore: Rc<Semaphore>,
    connected: Rc<RefCell<(u64, u64)>>,
    vote_every: Duration,
}

/// Connects one member: TCP from `source`, the WebSocket handshake (4 KiB buffers,
/// eager writes), the join, and its `welcome`; returns the socket and the
/// participant id.
async fn connect_member(
    addr: SocketAddr,
    source: Ipv4Addr,
    code: &str,
    name: &str,
    token: Option<&str>,
) -> Result<(Ws, String)> {
    let socket = TcpSocket::new_v4()?;
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
                    return Ok((ws, id.to_owned()));
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
async fn connect_room(ctx: &RoomCtx) -> Option<Vec<(Ws, String)>> {
    let _permit = ctx.semaphore.acquire().await.ok()?;
    let mut members = Vec::with_capacity(ctx.args.per_room);
    let timeout = Duration::from_secs_f64(ctx.args.connect_timeout);
    for m in 0..ctx.args.per_room {
        let n = ctx.index * ctx.args.per_room + m;
        let source = Ipv4Addr::new(
            127,
            0,
            0,
            ctx.args.first_source + (n % usize::from(ctx.args.sources.max(1))) as u8,
        );
        let token = (m == 0).then_some(ctx.plan.host_token.as_str());
        let name = format!("P{m}");
        let r = tokio::time::timeout(
            timeout,
            connect_member(ctx.args.addr, source, &ctx.plan.code, &name, token),
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

/// What one member's stream yields: a message, or its end.
type Event = (
    usize,
    Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
);

async fn play(ctx: &mut RoomCtx, members: Vec<(Ws, String)>) {
    let ids: Vec<String> = members.iter().map(|(_, id)| id.clone()).collect();
    let mut room = Room::new(&ids, Instant::now());
    let mut sinks: Vec<Option<Sink>> = Vec::with_capacity(members.len());
    let mut streams: SelectAll<_> = SelectAll::new();
    for (i, (ws, _)) in members.into_iter().enumerate() {
        let (sink, read) = ws.split();
        sinks.push(Some(sink));
        let read = read
            .map(move |m| -> Event { (i, Some(m)) })
            .chain(stream::once(async move { (i, None) }));
        streams.push(Box::pin(read));
    }
    // Before go: read (and so answer pings), send nothing.
    let (start, end) = loop {
        if let Some(window) = *ctx.go.borrow() {
            break window;
        }
        tokio::select! {
            changed = ctx.go.changed() => if changed.is_err() { return; },
            ev = streams.next() => match ev {
                Some(ev) => { handle(ctx, &mut room, &mut sinks, ev).await; }
                None => return,
            },
        }
    };
    // The first vote of each room falls somewhere in its first interval.
    let spread = ctx.vote_every.min(Duration::from_secs(3600));
    let mut next_vote = start + spread.mul_f64(fastrand::f64());
    let mut retry = tokio::time::interval(Duration::from_millis(500));
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        let can_vote = room.next_voter(0).is_some();
        tokio::select! {
            ev = streams.next() => match ev {
                Some(ev) => { handle(ctx, &mut room, &mut sinks, ev).await; }
                None => break,
            },
            _ = tokio::time::sleep_until(next_vote.into()), if can_vote => {
                if let Some(voter) = room.next_voter(fastrand::usize(..)) {
                    let card = ["1", "2", "3", "5", "8", "13"][fastrand::usize(..6)];
                    let frame = json!({"type": "vote", "value": card}).to_string();
                    let sent = Instant::now();
                    if send(ctx, &mut room, &mut sinks, voter, frame).await {
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
                    ctx.tally.borrow_mut().lost += lost;
                    ctx.tally.borrow_mut().rounds += 1;
                    send(ctx, &mut room, &mut sinks, 0, r#"{"type":"reveal"}"#.into()).await;
                } else if room.stage() != Stage::Voting && room.stage_age(now) > STAGE_RETRY {
                    let again = if room.stage() == Stage::Revealing { "reveal" } else { "reset" };
                    ctx.tally.borrow_mut().note(format!("host repeated {again}"));
                    send(ctx, &mut room, &mut sinks, 0, json!({"type": again}).to_string()).await;
                }
            }
        }
    }
    // Let the last votes arrive, then close every socket. Every room reads until
    // the same instant, so no room's closing (19,000 leaves at once) delays the
    // last arrivals of another.
    let drain_until = tokio::time::Instant::from_std(end + DRAIN);
    while let Ok(Some(ev)) = tokio::time::timeout_at(drain_until, streams.next()).await {
        handle(ctx, &mut room, &mut sinks, ev).await;
    }
    ctx.tally.borrow_mut().lost += room.pending_arrivals();
    for sink in sinks.iter_mut().flatten() {
        let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(Message::Close(None))).await;
    }
    // Read until the server's close (bounded), so it sees a clean close.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while streams.next().await.is_some() {}
    })
    .await;
}

/// Sends `frame` from `member`; a failure counts as that member's disconnect.
async fn send(
    ctx: &RoomCtx,
    room: &mut Room,
    sinks: &mut [Option<Sink>],
    member: usize,
    frame: String,
) -> bool {
    let Some(sink) = sinks.get_mut(member).and_then(Option::as_mut) else {
        return false;
    };
    match sink.send(Message::text(frame)).await {
        Ok(()) => true,
        Err(e) => {
            sinks[member] = None;
            let lost = room.lost(member);
            let mut t = ctx.tally.borrow_mut();
            t.lost += lost;
            t.disconnects += 1;
            t.note(format!("send: {e}"));
            false
        }
    }
}

async fn handle(ctx: &RoomCtx, room: &mut Room, sinks: &mut [Option<Sink>], (member, msg): Event) {
    let at = Instant::now();
    match msg {
        Some(Ok(Message::Text(text))) => {
            let seen = room.frame(member, &text, at);
            {
                let mut t = ctx.tally.borrow_mut();
                t.frames += 1;
                if !text.starts_with("{\"type\":\"view\"") && text.contains("\"type\":\"error\"") {
                    t.errors += 1;
                    t.note(format!(
                        "error frame: {}",
                        text.chars().take(160).collect::<String>()
                    ));
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
                send(ctx, room, sinks, 0, r#"{"type":"reset"}"#.into()).await;
            }
        }
        // tungstenite answers pings itself while the stream is read.
        Some(Ok(_)) => {}
        Some(Err(e)) => {
            closed(ctx, room, sinks, member, format!("read: {e}"));
        }
        None => closed(ctx, room, sinks, member, "closed by the server".into()),
    }
}

fn closed(ctx: &RoomCtx, room: &mut Room, sinks: &mut [Option<Sink>], member: usize, why: String) {
    if sinks.get(member).is_some_and(Option::is_none) {
        return;
    }
    if let Some(s) = sinks.get_mut(member) {
        *s = None;
    }
    let lost = room.lost(member);
    let mut t = ctx.tally.borrow_mut();
    t.lost += lost;
    t.disconnects += 1;
    t.note(why);
}
