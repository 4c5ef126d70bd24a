//! Rate limits and quotas: token buckets per caller (all tools together), for all callers
//! together, and per caller for the tools of a name or tag; a cap on the calls one caller has
//! under way; and, at the HTTP transport, a bucket per peer address for the requests that fail
//! authentication.
//!
//! Calls are counted by who makes them, as the transport identified them
//! ([`Inbound::caller_id`](super::call::Inbound::caller_id), the audit log's `caller`): the
//! OAuth subject, the static token's position, the peer's address (without its port, so that
//! reconnecting does not start a new bucket), or `stdio`. Limits live in this process only:
//! replicas behind a load balancer each count on their own.
//!
//! Memory stays bounded whoever calls: a map of buckets holds at most [`MAX_TRACKED`] keys.
//! When a new key would pass that, the buckets that are full again are dropped first (a new
//! key gets a full bucket anyway, so that changes nothing); if the map is still at its bound,
//! the half of the buckets nearest to full are dropped, which at worst gives their callers
//! part of a burst back early. The calls under way are kept only while they are.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::call::CallerId;

/// The most keys one map of buckets holds (see the module's notes).
pub const MAX_TRACKED: usize = 10_000;

/// The unauthenticated requests one peer address may make unless configured otherwise: a
/// client that starts without a token and then gets one needs one such request.
pub const DEFAULT_UNAUTHENTICATED: Rate = Rate {
    // Checked when compiling.
    calls: NonZeroU32::new(60).expect("60 is not zero"),
    per: Period::Minute,
};

/// The period of a [`Rate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// `N/s`.
    Second,
    /// `N/m` or `N/min`.
    Minute,
    /// `N/h`.
    Hour,
}

impl Period {
    /// Its length.
    pub fn duration(self) -> Duration {
        Duration::from_secs(match self {
            Period::Second => 1,
            Period::Minute => 60,
            Period::Hour => 3600,
        })
    }

    fn unit(self) -> &'static str {
        match self {
            Period::Second => "s",
            Period::Minute => "m",
            Period::Hour => "h",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Period::Second => "second",
            Period::Minute => "minute",
            Period::Hour => "hour",
        }
    }
}

/// At most `calls` calls per period, in a burst or spread out: written `N/s`, `N/m` (or
/// `N/min`) or `N/h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    /// Calls per period, which is also the largest burst.
    pub calls: NonZeroU32,
    /// The period.
    pub per: Period,
}

impl Rate {
    /// The time one call's token takes to come back. Never zero: past a billion calls a
    /// second, the burst is what limits.
    fn interval(self) -> Duration {
        (self.per.duration() / self.calls.get()).max(Duration::from_nanos(1))
    }

    /// `5 calls per minute`, for messages.
    pub fn describe(self) -> String {
        let calls = self.calls.get();
        let noun = if calls == 1 { "call" } else { "calls" };
        format!("{calls} {noun} per {}", self.per.name())
    }
}

/// `5/m`: the form it is written in.
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.calls, self.per.unit())
    }
}

impl FromStr for Rate {
    type Err = RateError;

    fn from_str(text: &str) -> Result<Rate, RateError> {
        let refused = || RateError::NotARate(text.to_owned());
        let (calls, unit) = text.trim().split_once('/').ok_or_else(refused)?;
        let calls = calls.trim().parse::<NonZeroU32>().map_err(|_| refused())?;
        let per = match unit.trim().to_ascii_lowercase().as_str() {
            "s" => Period::Second,
            "m" | "min" => Period::Minute,
            "h" => Period::Hour,
            _ => return Err(refused()),
        };
        Ok(Rate { calls, per })
    }
}

/// A rate or a tool's rate that cannot be read. The messages say what is accepted; clap
/// puts the option's name in front of them, the environment's reader the variable's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// Not `N/s`, `N/m`, `N/min` or `N/h`.
    #[error(
        "`{0}` is not a rate: write N/s, N/m (or N/min) or N/h, N a whole number from 1 to \
         4294967295 (calls per second, minute or hour)"
    )]
    NotARate(String),
    /// Not `SELECTOR=RATE`.
    #[error(
        "`{0}` is not a tool's rate: write TOOL=RATE or tag:TAG=RATE (e.g. getPetById=10/m), \
         RATE being N/s, N/m or N/h"
    )]
    NotAToolRate(String),
}

/// `SELECTOR=RATE` of `--tool-rate-limit`: a tool's name or `tag:NAME`, and its rate.
pub fn parse_tool_rate(text: &str) -> Result<(String, Rate), RateError> {
    let (selector, rate) = text
        .split_once('=')
        .ok_or_else(|| RateError::NotAToolRate(text.to_owned()))?;
    let selector = selector.trim();
    if selector.is_empty() || selector.strip_prefix("tag:") == Some("") {
        return Err(RateError::NotAToolRate(text.to_owned()));
    }
    Ok((selector.to_owned(), rate.parse()?))
}

/// The rate limits and quotas of a server, as plain values: the command line and the
/// environment fill them in (`--rate-limit`, `<PREFIX>_RATE_LIMIT`, ...), and settings given
/// when the server is generated may one day lie beneath those. `None` or empty: no such limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Calls one caller may make to all tools together (`--rate-limit`).
    pub per_caller: Option<Rate>,
    /// Calls all callers together may make (`--global-rate-limit`).
    pub global: Option<Rate>,
    /// Calls one caller may have under way at once (`--max-concurrent-per-caller`).
    pub max_concurrent_per_caller: Option<NonZeroU32>,
    /// Requests from one peer address that fail authentication (`--unauthenticated-rate-limit`);
    /// only the HTTP transport with `--mcp-token` or `--oauth-issuer` counts them.
    pub unauthenticated: Rate,
    /// Calls one caller may make to the tools a selector matches (`--tool-rate-limit`): a
    /// tool's name, or `tag:NAME` for the operations with that tag, counted together.
    pub per_tool: Vec<(String, Rate)>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_caller: None,
            global: None,
            max_concurrent_per_caller: None,
            unauthenticated: DEFAULT_UNAUTHENTICATED,
            per_tool: Vec::new(),
        }
    }
}

impl RateLimits {
    /// Whether any limit applies to tool calls.
    pub fn limits_calls(&self) -> bool {
        self.per_caller.is_some()
            || self.global.is_some()
            || self.max_concurrent_per_caller.is_some()
            || !self.per_tool.is_empty()
    }

    /// The selectors of `per_tool` that match none of the tools `names` and none of the
    /// operations' `tags`: most likely typos, which would leave a tool unlimited.
    pub fn unmatched_selectors(&self, names: &[&str], tags: &[&str]) -> Vec<&str> {
        self.per_tool
            .iter()
            .map(|(selector, _)| selector.as_str())
            .filter(|selector| match selector.strip_prefix("tag:") {
                Some(tag) => !tags.contains(&tag),
                None => !names.contains(selector),
            })
            .collect()
    }
}

/// Whether `selector` (a tool's name or `tag:NAME`) matches the tool `name` with `tags`.
fn selects(selector: &str, name: &str, tags: &[&str]) -> bool {
    match selector.strip_prefix("tag:") {
        Some(tag) => tags.contains(&tag),
        None => selector == name,
    }
}

/// A token bucket of `rate.calls` tokens refilled at `rate`: a burst of `rate.calls` calls,
/// then one a `period / calls`. Kept as the instant at which it is full again (the generic
/// cell rate algorithm's form of a token bucket): one `Instant`, and no refill step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    full_at: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn full(now: Instant) -> Self {
        TokenBucket { full_at: now }
    }

    /// How long until a token is there: zero when one is there now.
    pub fn wait(&self, rate: Rate, now: Instant) -> Duration {
        let emptied = self.full_at.max(now) + rate.interval();
        emptied
            .saturating_duration_since(now)
            .saturating_sub(rate.per.duration())
    }

    /// Takes a token (the caller has checked there is one).
    fn take(&mut self, rate: Rate, now: Instant) {
        let from = self.full_at.max(now);
        self.full_at = from.checked_add(rate.interval()).unwrap_or(from);
    }

    /// Whether the bucket holds all its tokens again.
    pub fn is_full(&self, now: Instant) -> bool {
        self.full_at <= now
    }
}

/// Buckets by key, at most `bound` of them (see the module's notes).
#[derive(Debug)]
struct BucketMap<K> {
    buckets: HashMap<K, TokenBucket>,
    bound: usize,
}

impl<K: Hash + Eq> BucketMap<K> {
    fn new(bound: usize) -> Self {
        BucketMap {
            buckets: HashMap::new(),
            bound: bound.max(1),
        }
    }

    /// How long until `key`'s bucket has a token (a key without one has a full bucket).
    fn wait(&self, key: &K, rate: Rate, now: Instant) -> Duration {
        self.buckets
            .get(key)
            .map_or(Duration::ZERO, |bucket| bucket.wait(rate, now))
    }

    /// Takes a token from `key`'s bucket, making room for it first when it is new.
    fn take(&mut self, key: K, rate: Rate, now: Instant) {
        if !self.buckets.contains_key(&key) {
            self.make_room(now);
        }
        self.buckets
            .entry(key)
            .or_insert_with(|| TokenBucket::full(now))
            .take(rate, now);
    }

    /// Takes a token from `key`'s bucket if it has one, else says how long until it has.
    fn try_take(&mut self, key: K, rate: Rate, now: Instant) -> Result<(), Duration> {
        match self.wait(&key, rate, now) {
            wait if wait.is_zero() => {
                self.take(key, rate, now);
                Ok(())
            }
            wait => Err(wait),
        }
    }

    /// Below the bound again: the full buckets dropped, then if need be the half nearest to
    /// full (at least half of them: those that fill up no later than the middle one).
    fn make_room(&mut self, now: Instant) {
        if self.buckets.len() < self.bound {
            return;
        }
        self.buckets.retain(|_, bucket| !bucket.is_full(now));
        if self.buckets.len() < self.bound {
            return;
        }
        let mut ends: Vec<Instant> = self.buckets.values().map(|b| b.full_at).collect();
        let middle = ends.len() / 2;
        let (_, &mut cut, _) = ends.select_nth_unstable(middle);
        self.buckets.retain(|_, bucket| bucket.full_at > cut);
    }
}

/// A caller as the limits count it: [`CallerId`], owned, with a peer's address reduced to
/// what one client holds (see [`address_key`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallerKey {
    /// An OAuth subject.
    Subject(Box<str>),
    /// The static MCP token at this position.
    McpToken(usize),
    /// A peer's address.
    Address(IpAddr),
    /// An HTTP request nothing else identifies.
    Http,
    /// The stdio client.
    Stdio,
}

impl From<CallerId<'_>> for CallerKey {
    fn from(id: CallerId<'_>) -> Self {
        match id {
            CallerId::Subject(subject) => CallerKey::Subject(subject.into()),
            CallerId::McpToken(index) => CallerKey::McpToken(index),
            CallerId::Peer(address) => CallerKey::Address(address_key(address.ip())),
            CallerId::Http => CallerKey::Http,
            CallerId::Stdio => CallerKey::Stdio,
        }
    }
}

/// The part of a peer's address that limits count by: an IPv4 address (also when mapped into
/// IPv6) as it is, an IPv6 address by its /64 prefix, since one host is usually given a whole
/// /64 and could otherwise start a new bucket at each of its addresses.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// Which limit a call would pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limit {
    /// One caller's calls to all tools (`--rate-limit`).
    PerCaller(Rate),
    /// All callers' calls together (`--global-rate-limit`).
    Global(Rate),
    /// One caller's calls to the tools a selector matches (`--tool-rate-limit`).
    Tool {
        /// A tool's name, or `tag:NAME`.
        selector: String,
        /// Its rate.
        rate: Rate,
    },
}

/// Why a call is refused. Its text is the tool error the model reads: which limit, and when
/// to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A rate limit's bucket is empty; `wait` is how long until it has a token.
    Rate {
        /// The limit.
        limit: Limit,
        /// Until a call would pass (the longest wait, when several limits refuse).
        wait: Duration,
    },
    /// The caller has its maximum of calls under way.
    Concurrency {
        /// `--max-concurrent-per-caller`.
        max: NonZeroU32,
    },
}

impl Refusal {
    /// The `limit` label of `mcp_rate_limited_total`.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::Rate {
                limit: Limit::PerCaller(_),
                ..
            } => "caller",
            Refusal::Rate {
                limit: Limit::Global(_),
                ..
            } => "global",
            Refusal::Rate {
                limit: Limit::Tool { .. },
                ..
            } => "tool",
            Refusal::Concurrency { .. } => "concurrency",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Rate { limit, wait } => {
                f.write_str("Rate limit reached: ")?;
                match limit {
                    Limit::PerCaller(rate) => {
                        write!(f, "this caller may make {} to all tools", rate.describe())?
                    }
                    Limit::Global(rate) => write!(
                        f,
                        "all callers together may make {} to this server",
                        rate.describe()
                    )?,
                    Limit::Tool { selector, rate } => match selector.strip_prefix("tag:") {
                        Some(tag) => write!(
                            f,
                            "this caller may make {} to the tools tagged `{tag}` together",
                            rate.describe()
                        )?,
                        None => write!(
                            f,
                            "this caller may make {} to `{selector}`",
                            rate.describe()
                        )?,
                    },
                }
                write!(f, ". Try again in {} s.", retry_after_secs(*wait))
            }
            Refusal::Concurrency { max } => write!(
                f,
                "Concurrency limit reached: this caller may have {max} call{} under way at \
                 once. Try again when one of them has finished.",
                if max.get() == 1 { "" } else { "s" }
            ),
        }
    }
}

/// A wait in whole seconds, rounded up and at least 1: what `Retry-After` and the messages
/// say, so that trying again then succeeds.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// The bucket a limit that applies to a call draws from.
#[derive(Debug, Clone, Copy)]
enum Applies {
    Tool(usize),
    Caller,
    Global,
}

/// What the call limits count, behind one lock so that a call is checked against all of them
/// and counted in all of them at once.
#[derive(Debug)]
struct CallCounts {
    /// `None` until the first call: full.
    global: Option<TokenBucket>,
    callers: BucketMap<CallerKey>,
    /// Keyed by the selector's position in `per_tool` and the caller.
    tools: BucketMap<(usize, CallerKey)>,
    /// Callers with calls under way, and how many; an entry goes with its last call.
    in_flight: HashMap<CallerKey, u32>,
}

impl CallCounts {
    fn wait(&self, applies: Applies, rate: Rate, caller: &CallerKey, now: Instant) -> Duration {
        match applies {
            // The key is built for the lookup: selectors are few, and so is this.
            Applies::Tool(i) => self.tools.wait(&(i, caller.clone()), rate, now),
            Applies::Caller => self.callers.wait(caller, rate, now),
            Applies::Global => self
                .global
                .map_or(Duration::ZERO, |bucket| bucket.wait(rate, now)),
        }
    }

    fn take(&mut self, applies: Applies, rate: Rate, caller: &CallerKey, now: Instant) {
        match applies {
            Applies::Tool(i) => self.tools.take((i, caller.clone()), rate, now),
            Applies::Caller => self.callers.take(caller.clone(), rate, now),
            Applies::Global => self
                .global
                .get_or_insert_with(|| TokenBucket::full(now))
                .take(rate, now),
        }
    }
}

/// The limits of one server and what they have counted.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    calls: Mutex<CallCounts>,
    /// Failed authentications by peer address ([`address_key`]).
    unauthenticated: Mutex<BucketMap<IpAddr>>,
}

/// Locks a mutex whose data stays consistent even if a holder panicked (every change under
/// these locks is a single assignment or insertion).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RateLimiter {
    /// A limiter with nothing counted yet.
    pub fn new(limits: RateLimits) -> Self {
        Self::bounded(limits, MAX_TRACKED)
    }

    /// [`Self::new`] with maps of at most `bound` keys.
    fn bounded(limits: RateLimits, bound: usize) -> Self {
        RateLimiter {
            limits,
            calls: Mutex::new(CallCounts {
                global: None,
                callers: BucketMap::new(bound),
                tools: BucketMap::new(bound),
                in_flight: HashMap::new(),
            }),
            unauthenticated: Mutex::new(BucketMap::new(bound)),
        }
    }

    /// Whether any limit applies to tool calls; when none does, callers need not be known.
    pub fn limits_calls(&self) -> bool {
        self.limits.limits_calls()
    }

    /// Admits a call of the tool `name` (with the operation's `tags`) by `caller` at `now`,
    /// counting it in every limit that applies to it; or refuses it, counting it in none. The
    /// call is under way for the concurrency cap until the admission is dropped.
    pub fn admit(
        &self,
        caller: CallerKey,
        name: &str,
        tags: &[&str],
        now: Instant,
    ) -> Result<Admission<'_>, Refusal> {
        let limits = &self.limits;
        if !limits.limits_calls() {
            return Ok(Admission::unlimited());
        }
        let mut applying: Vec<(Applies, Limit)> = limits
            .per_tool
            .iter()
            .enumerate()
            .filter(|(_, (selector, _))| selects(selector, name, tags))
            .map(|(i, (selector, rate))| {
                let limit = Limit::Tool {
                    selector: selector.clone(),
                    rate: *rate,
                };
                (Applies::Tool(i), limit)
            })
            .collect();
        applying.extend(
            limits
                .per_caller
                .map(|r| (Applies::Caller, Limit::PerCaller(r))),
        );
        applying.extend(limits.global.map(|r| (Applies::Global, Limit::Global(r))));
        let mut counts = lock(&self.calls);
        if let Some(max) = limits.max_concurrent_per_caller
            && counts.in_flight.get(&caller).copied().unwrap_or(0) >= max.get()
        {
            return Err(Refusal::Concurrency { max });
        }
        let mut longest: Option<(Duration, &Limit)> = None;
        for (applies, limit) in &applying {
            let wait = counts.wait(*applies, rate_of(limit), &caller, now);
            if !wait.is_zero() && longest.is_none_or(|(w, _)| wait > w) {
                longest = Some((wait, limit));
            }
        }
        if let Some((wait, limit)) = longest {
            return Err(Refusal::Rate {
                limit: limit.clone(),
                wait,
            });
        }
        for (applies, limit) in &applying {
            counts.take(*applies, rate_of(limit), &caller, now);
        }
        if limits.max_concurrent_per_caller.is_none() {
            return Ok(Admission::unlimited());
        }
        *counts.in_flight.entry(caller.clone()).or_insert(0) += 1;
        Ok(Admission {
            under_way: Some((self, caller)),
        })
    }

    /// How long until a request from `peer` that fails authentication would be answered with
    /// its 401 rather than a 429: zero when its bucket has a token.
    pub fn unauthenticated_wait(&self, peer: IpAddr, now: Instant) -> Duration {
        let rate = self.limits.unauthenticated;
        lock(&self.unauthenticated).wait(&address_key(peer), rate, now)
    }

    /// Counts a request from `peer` that failed authentication; when its bucket is empty,
    /// how long until it has a token again.
    pub fn unauthenticated_failure(&self, peer: IpAddr, now: Instant) -> Result<(), Duration> {
        let rate = self.limits.unauthenticated;
        lock(&self.unauthenticated).try_take(address_key(peer), rate, now)
    }
}

fn rate_of(limit: &Limit) -> Rate {
    match limit {
        Limit::PerCaller(rate) | Limit::Global(rate) | Limit::Tool { rate, .. } => *rate,
    }
}

/// An admitted call; it stops counting as under way when this is dropped (also when the
/// call's future is dropped unfinished).
#[derive(Debug)]
pub struct Admission<'a> {
    under_way: Option<(&'a RateLimiter, CallerKey)>,
}

impl Admission<'_> {
    /// An admission that holds nothing: no concurrency cap applies.
    pub fn unlimited() -> Self {
        Admission { under_way: None }
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        let Some((limiter, caller)) = self.under_way.take() else {
            return;
        };
        let mut counts = lock(&limiter.calls);
        if let Some(count) = counts.in_flight.get_mut(&caller) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.in_flight.remove(&caller);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(text: &str) -> Rate {
        text.parse().unwrap()
    }

    #[test]
    fn rates_are_read_in_their_forms_and_refused_otherwise() {
        for (text, calls, per) in [
            ("10/s", 10, Period::Second),
            ("5/m", 5, Period::Minute),
            ("5/min", 5, Period::Minute),
            (" 7 / h ", 7, Period::Hour),
            ("1/H", 1, Period::Hour),
            ("4294967295/s", u32::MAX, Period::Second),
        ] {
            let parsed = rate(text);
            assert_eq!((parsed.calls.get(), parsed.per), (calls, per), "{text}");
        }
        for bad in [
            "",
            "10",
            "0/s",
            "-1/s",
            "1.5/s",
            "10/d",
            "10/",
            "/s",
            "ten/s",
            "10/s/s",
            "4294967296/s",
        ] {
            let error = bad.parse::<Rate>().unwrap_err().to_string();
            assert!(
                error.contains(&format!("`{bad}`")) && error.contains("N/s, N/m (or N/min) or N/h"),
                "{bad}: {error}"
            );
        }
        assert_eq!(rate("5/min").to_string(), "5/m");
        assert_eq!(rate("5/m").describe(), "5 calls per minute");
        assert_eq!(rate("1/h").describe(), "1 call per hour");
        assert_eq!(DEFAULT_UNAUTHENTICATED, rate("60/m"));
    }

    #[test]
    fn tool_rates_name_a_tool_or_a_tag() {
        assert_eq!(
            parse_tool_rate("getPetById=2/m"),
            Ok(("getPetById".to_owned(), rate("2/m")))
        );
        assert_eq!(
            parse_tool_rate("tag:pets=10/s"),
            Ok(("tag:pets".to_owned(), rate("10/s")))
        );
        for bad in ["getPetById", "=2/m", "tag:=2/m", " =1/s"] {
            assert_eq!(
                parse_tool_rate(bad),
                Err(RateError::NotAToolRate(bad.to_owned()))
            );
        }
        assert_eq!(
            parse_tool_rate("getPetById=2"),
            Err(RateError::NotARate("2".to_owned()))
        );
        let limits = RateLimits {
            per_tool: vec![
                ("getPetById".to_owned(), rate("1/s")),
                ("tag:pets".to_owned(), rate("1/s")),
                ("getPet".to_owned(), rate("1/s")),
                ("tag:store".to_owned(), rate("1/s")),
            ],
            ..RateLimits::default()
        };
        assert_eq!(
            limits.unmatched_selectors(&["getPetById", "listPets"], &["pets"]),
            ["getPet", "tag:store"]
        );
        assert!(selects("tag:pets", "listPets", &["store", "pets"]));
        assert!(!selects("tag:pets", "pets", &[]));
        assert!(selects("listPets", "listPets", &[]));
    }

    /// Takes a token if there is one, else says how long until there is.
    fn take_from(bucket: &mut TokenBucket, rate: Rate, now: Instant) -> Result<(), Duration> {
        match bucket.wait(rate, now) {
            wait if wait.is_zero() => {
                bucket.take(rate, now);
                Ok(())
            }
            wait => Err(wait),
        }
    }

    #[test]
    fn a_bucket_allows_its_burst_then_one_call_per_interval() {
        let start = Instant::now();
        let five_a_minute = rate("5/m");
        let mut bucket = TokenBucket::full(start);
        for _ in 0..5 {
            assert_eq!(take_from(&mut bucket, five_a_minute, start), Ok(()));
        }
        // Empty: the next token comes back 12 s after the burst.
        assert_eq!(
            take_from(&mut bucket, five_a_minute, start),
            Err(Duration::from_secs(12))
        );
        let later = start + Duration::from_secs(5);
        assert_eq!(bucket.wait(five_a_minute, later), Duration::from_secs(7));
        assert_eq!(retry_after_secs(Duration::from_millis(6_001)), 7);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        let refilled = start + Duration::from_secs(12);
        assert_eq!(take_from(&mut bucket, five_a_minute, refilled), Ok(()));
        assert!(take_from(&mut bucket, five_a_minute, refilled).is_err());
        // A minute after the last call it is full again, and holds no more than its burst.
        let idle = refilled + Duration::from_secs(3600);
        assert!(bucket.is_full(idle));
        for _ in 0..5 {
            assert_eq!(take_from(&mut bucket, five_a_minute, idle), Ok(()));
        }
        assert!(take_from(&mut bucket, five_a_minute, idle).is_err());
        // Rates that do not divide their period evenly still give their whole burst.
        let seven_a_second = rate("7/s");
        let mut bucket = TokenBucket::full(start);
        for _ in 0..7 {
            assert_eq!(take_from(&mut bucket, seven_a_second, start), Ok(()));
        }
        assert!(take_from(&mut bucket, seven_a_second, start).is_err());
    }

    fn limiter(limits: RateLimits) -> RateLimiter {
        RateLimiter::new(limits)
    }

    fn token(i: usize) -> CallerKey {
        CallerKey::McpToken(i)
    }

    /// Of `calls` calls of `tool` by `caller` at `now`, how many are admitted (each admission
    /// dropped at once).
    fn admitted(
        limiter: &RateLimiter,
        caller: usize,
        tool: &str,
        calls: usize,
        now: Instant,
    ) -> usize {
        (0..calls)
            .filter(|_| limiter.admit(token(caller), tool, &["pets"], now).is_ok())
            .count()
    }

    #[test]
    fn each_caller_has_its_own_bucket_and_all_share_the_global_one() {
        let now = Instant::now();
        let per_caller = limiter(RateLimits {
            per_caller: Some(rate("5/m")),
            ..RateLimits::default()
        });
        assert_eq!(admitted(&per_caller, 0, "a", 8, now), 5);
        assert_eq!(admitted(&per_caller, 1, "b", 8, now), 5);
        let refusal = per_caller.admit(token(0), "a", &[], now).unwrap_err();
        assert_eq!(refusal.label(), "caller");
        assert_eq!(
            refusal.to_string(),
            "Rate limit reached: this caller may make 5 calls per minute to all tools. Try \
             again in 12 s."
        );

        let global = limiter(RateLimits {
            per_caller: Some(rate("3/m")),
            global: Some(rate("4/m")),
            ..RateLimits::default()
        });
        assert_eq!(admitted(&global, 0, "a", 3, now), 3);
        assert_eq!(admitted(&global, 1, "a", 3, now), 1);
        let refusal = global.admit(token(2), "a", &[], now).unwrap_err();
        assert_eq!(refusal.label(), "global");
        assert!(
            refusal
                .to_string()
                .contains("all callers together may make 4 calls per minute"),
            "{refusal}"
        );
        // A refused call is counted nowhere: 15 s on the global bucket has one token back, and
        // caller 1, refused twice, still has tokens of its own (had the refusals taken them,
        // its bucket would be empty for another 5 s).
        let later = now + Duration::from_secs(15);
        assert_eq!(admitted(&global, 1, "a", 2, later), 1);
    }

    #[test]
    fn tool_and_tag_limits_apply_to_their_tools_only() {
        let now = Instant::now();
        let limits = limiter(RateLimits {
            per_tool: vec![
                ("tag:pets".to_owned(), rate("3/h")),
                ("inventory".to_owned(), rate("1/h")),
            ],
            ..RateLimits::default()
        });
        // The tag's tools share one bucket per caller.
        assert_eq!(admitted(&limits, 0, "getPet", 2, now), 2);
        assert_eq!(admitted(&limits, 0, "listPets", 2, now), 1);
        assert_eq!(admitted(&limits, 1, "listPets", 1, now), 1);
        let untagged = |tool| limits.admit(token(0), tool, &[], now);
        assert!(untagged("inventory").is_ok());
        let refusal = untagged("inventory").unwrap_err();
        assert_eq!(refusal.label(), "tool");
        assert!(
            refusal
                .to_string()
                .starts_with("Rate limit reached: this caller may make 1 call per hour to `inventory`. Try again in "),
            "{refusal}"
        );
        assert!(untagged("other").is_ok());
        let refusal = limits
            .admit(token(0), "getPet", &["pets"], now)
            .unwrap_err();
        assert!(
            refusal
                .to_string()
                .contains("to the tools tagged `pets` together"),
            "{refusal}"
        );
    }

    #[test]
    fn the_concurrency_cap_counts_calls_until_their_admission_is_dropped() {
        let now = Instant::now();
        let limits = limiter(RateLimits {
            max_concurrent_per_caller: NonZeroU32::new(2),
            ..RateLimits::default()
        });
        let first = limits.admit(token(0), "a", &[], now).unwrap();
        let second = limits.admit(token(0), "a", &[], now).unwrap();
        let refusal = limits.admit(token(0), "a", &[], now).unwrap_err();
        assert_eq!(refusal.label(), "concurrency");
        assert!(
            refusal
                .to_string()
                .contains("this caller may have 2 calls under way at once"),
            "{refusal}"
        );
        // Another caller is not held back.
        let other = limits.admit(token(1), "a", &[], now).unwrap();
        drop(first);
        let third = limits.admit(token(0), "a", &[], now).unwrap();
        drop((second, third, other));
        assert!(
            lock(&limits.calls).in_flight.is_empty(),
            "no entry outlives its calls"
        );
    }

    #[test]
    fn the_maps_stay_bounded_whoever_calls() {
        let start = Instant::now();
        let limits = |bound| {
            RateLimiter::bounded(
                RateLimits {
                    per_caller: Some(rate("2/m")),
                    per_tool: vec![("a".to_owned(), rate("2/m"))],
                    ..RateLimits::default()
                },
                bound,
            )
        };
        // A thousand callers, one a millisecond: no bucket is full again, so each time the
        // bound is reached the half nearest to full (the earliest callers') goes.
        let hostile = limits(100);
        let at = |i: usize| start + Duration::from_millis(i as u64);
        for i in 0..1000 {
            assert!(hostile.admit(token(i), "a", &[], at(i)).is_ok());
            let counts = lock(&hostile.calls);
            assert!(counts.callers.buckets.len() <= 100 && counts.tools.buckets.len() <= 100);
        }
        // The latest caller keeps its bucket, one token short.
        assert!(hostile.admit(token(999), "a", &[], at(999)).is_ok());
        assert!(hostile.admit(token(999), "a", &[], at(999)).is_err());

        // Buckets that are full again are what goes first.
        let filled = limits(100);
        for i in 0..100 {
            assert!(filled.admit(token(i), "a", &[], start).is_ok());
        }
        let later = start + Duration::from_secs(60);
        assert!(filled.admit(token(5000), "a", &[], later).is_ok());
        assert_eq!(lock(&filled.calls).callers.buckets.len(), 1);

        let unauthenticated = RateLimiter::bounded(RateLimits::default(), 100);
        for i in 0..1000u32 {
            let peer = IpAddr::from(std::net::Ipv4Addr::from(i));
            assert_eq!(
                unauthenticated.unauthenticated_failure(peer, at(i as usize)),
                Ok(())
            );
        }
        assert!(lock(&unauthenticated.unauthenticated).buckets.len() <= 100);
    }

    #[test]
    fn unauthenticated_requests_are_counted_by_address() {
        let now = Instant::now();
        let limits = limiter(RateLimits {
            unauthenticated: rate("3/h"),
            ..RateLimits::default()
        });
        let peer: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..3 {
            assert!(limits.unauthenticated_wait(peer, now).is_zero());
            assert_eq!(limits.unauthenticated_failure(peer, now), Ok(()));
        }
        assert_eq!(
            limits.unauthenticated_wait(peer, now),
            Duration::from_secs(1200)
        );
        assert!(limits.unauthenticated_failure(peer, now).is_err());
        // The same peer through IPv4-mapped IPv6 is the same peer.
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert!(limits.unauthenticated_failure(mapped, now).is_err());
        assert!(
            limits
                .unauthenticated_wait("192.0.2.8".parse().unwrap(), now)
                .is_zero()
        );
        // An IPv6 host counts by its /64.
        assert_eq!(
            address_key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
    }
}
