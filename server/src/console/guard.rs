//! What stands between an anonymous visitor and the password check: the client's address, a
//! per-address rate limit (`governor`), and a bound on how many argon2 hashes run at once.
//!
//! Sign-in is judged in this order, every step before any hashing:
//! 1. the login and password lengths (`MAX_LOGIN_CHARS`, `MAX_PASSWORD_BYTES`);
//! 2. the client address's sign-in rate over all logins (`ADDRESS_QUOTA_PER_MINUTE`): spraying one password
//!    over many logins from one address is slowed;
//! 3. the attempt is counted atomically (`db::session::count_login_attempt`) for this login from
//!    this address and for this login from everywhere: past `MAX_FAILURES` from this address, or
//!    past `MAX_FAILURES_ALL` from everywhere when this address has tried before, the attempt is
//!    refused. An address that has not failed for this login (the owner at their usual place
//!    while someone else hammers the login) still gets its attempt: nobody can lock `admin` out
//!    from elsewhere;
//! 4. a hashing slot (`HashSlot`): at most as many hashes as cores (2–4) run at once, each in
//!    its slot's argon2 memory, allocated once; the rest wait `HASH_WAIT` and are then refused
//!    with «Слишком много попыток».

use crate::auth::password::Memory;
use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use chrono::TimeDelta;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The longest login a sign-in accepts (a user's login is at most this long).
pub const MAX_LOGIN_CHARS: usize = 64;
/// The longest password a sign-in hashes.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Failed sign-ins of one login from one address within `THROTTLE_WINDOW`; the next wait.
pub const MAX_FAILURES: i64 = 5;
/// Failed sign-ins of one login from all addresses within `THROTTLE_WINDOW`; past it only
/// addresses without a failure of their own for this login may try.
pub const MAX_FAILURES_ALL: i64 = 20;
pub const THROTTLE_WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Sign-in attempts per client address over all logins: a burst of 10, then one every 6 s
/// (`QRPAY_SIGN_INS_PER_MINUTE` changes it).
pub const ADDRESS_QUOTA_PER_MINUTE: u32 = 10;
/// How long a sign-in waits for a hashing slot before it is refused.
pub const HASH_WAIT: Duration = Duration::from_secs(2);

/// The client's address as the console judges it (see `client_address`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Puts the client's address into the request: the TCP peer, or, when qrpay is told it runs
/// behind a reverse proxy (`QRPAY_TRUST_FORWARDED_FOR`), the last address of
/// `X-Forwarded-For` (the one that proxy appended; earlier ones are the client's to forge).
pub async fn client_address(trust_forwarded_for: bool, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let addr = resolve(peer, req.headers(), trust_forwarded_for);
    req.extensions_mut().insert(ClientAddr(addr));
    next.run(req).await
}

fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trust_forwarded_for: bool) -> IpAddr {
    let forwarded = || {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|a| a.trim().parse::<IpAddr>().ok())
    };
    let forwarded = if trust_forwarded_for {
        forwarded()
    } else {
        None
    };
    forwarded
        .or(peer)
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The per-address rate limit and the hashing slots of one running qrpay.
pub struct LoginGuard {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    hashing: Arc<Semaphore>,
    /// One argon2 working memory per slot, allocated once and reused.
    memory: Arc<Mutex<Vec<Memory>>>,
}

/// A hashing slot and its argon2 memory; both go back when it is dropped.
pub struct HashSlot {
    _permit: OwnedSemaphorePermit,
    memory: Memory,
    pool: Arc<Mutex<Vec<Memory>>>,
}

impl HashSlot {
    /// `password::verify` in this slot's memory (call it off the async threads).
    pub fn verify(&mut self, phc: &str, password: &str) -> bool {
        crate::auth::password::verify_with(phc, password, &mut self.memory)
    }
}

impl Drop for HashSlot {
    fn drop(&mut self) {
        let memory = std::mem::take(&mut self.memory);
        self.pool.lock().expect("BUG: poisoned").push(memory);
    }
}

impl Default for LoginGuard {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(ADDRESS_QUOTA_PER_MINUTE, cores.clamp(2, 4))
    }
}

impl LoginGuard {
    pub fn new(per_minute: u32, hash_slots: usize) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).expect("BUG: max(1)"));
        Self {
            per_address: RateLimiter::keyed(quota),
            hashing: Arc::new(Semaphore::new(hash_slots.max(1))),
            memory: Arc::default(),
        }
    }

    /// Takes one sign-in from the address's quota; `false` when it is spent.
    pub fn address_allows(&self, addr: IpAddr) -> bool {
        self.per_address.check_key(&addr).is_ok()
    }

    /// Waits up to `HASH_WAIT` for a hashing slot; `None` when the server is busy hashing.
    pub async fn hash_slot(&self) -> Option<HashSlot> {
        let permit = tokio::time::timeout(HASH_WAIT, self.hashing.clone().acquire_owned())
            .await
            .ok()?
            .ok()?;
        let memory = self.memory.lock().expect("BUG: poisoned").pop();
        Some(HashSlot {
            _permit: permit,
            memory: memory.unwrap_or_default(),
            pool: self.memory.clone(),
        })
    }

    /// Forgets addresses whose quota has filled up again (the periodic clean-up).
    pub fn forget_idle(&self) {
        self.per_address.retain_recent();
        self.per_address.shrink_to_fit();
    }
}

/// The verdict on a counted attempt (see the module's step 3).
pub fn attempt_allowed(a: crate::db::session::LoginAttempts) -> bool {
    a.from_address <= MAX_FAILURES && (a.all <= MAX_FAILURES_ALL || a.from_address == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::session::LoginAttempts;

    #[test]
    fn forwarded_for_is_read_only_when_trusted_and_only_its_last_hop() {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "6.6.6.6, 10.0.0.7".parse().unwrap());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let peer = Some(ip);
        assert_eq!(resolve(peer, &h, false), ip);
        assert_eq!(
            resolve(peer, &h, true),
            "10.0.0.7".parse::<IpAddr>().unwrap()
        );
        h.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(resolve(peer, &h, true), ip);
    }

    #[test]
    fn a_fresh_address_may_try_a_login_under_attack_once() {
        let a = |from_address, all| attempt_allowed(LoginAttempts { from_address, all });
        assert!(a(5, 5));
        assert!(!a(6, 6));
        assert!(!a(2, 21));
        assert!(a(1, 500));
    }

    #[tokio::test]
    async fn hash_slots_are_bounded_and_the_quota_is_per_address() {
        let g = LoginGuard::new(2, 1);
        let one: IpAddr = "10.0.0.1".parse().unwrap();
        let two: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(g.address_allows(one) && g.address_allows(one));
        assert!(!g.address_allows(one));
        assert!(g.address_allows(two));
        let held = g.hash_slot().await.expect("a free slot");
        assert!(g.hash_slot().await.is_none(), "the only slot is held");
        drop(held);
        assert!(g.hash_slot().await.is_some());
    }
}
