//! Keeps the served credentials fresh: well before the role session has
//! less than the minimum TTL left, assume the role again from the cached
//! MFA session — `resolve::credentials` with no prompt and no `mfa_process`,
//! under the cache's lock like every other caller — and serve the new keys.
//!
//! A refresh runs on its own thread, never inside a request. When one fails
//! (the MFA session has ended, STS refuses), the old keys are served until
//! they expire, the reason is said once on stderr, and the refresh is tried
//! again: a `mfaenv login` in another terminal puts a new session in the
//! cache, and the next try picks it up. The end of the MFA session is said
//! once, [`WARN_AHEAD`] before it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::cache::Cache;
use crate::config::{MfaMode, Plan};
use crate::creds::{rfc3339, Credentials};
use crate::duration::human;
use crate::resolve::{self, Options};

use super::http::{Endpoint, Stop};

/// How long before the end of the MFA session the one warning comes.
pub const WARN_AHEAD: Duration = Duration::from_secs(15 * 60);

/// How much earlier than the minimum TTL a refresh starts, when the session
/// is long enough: then the SDKs never see keys inside their own refresh
/// windows (botocore 15 min, the Go and JS SDKs 5 min).
const LEAD: Duration = Duration::from_secs(10 * 60);

/// Refreshes are at least this far apart (an STS that hands out keys that
/// expire at once must not be called in a loop).
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The longest wait: the wall clock is looked at again at least this often
/// (a laptop that slept does not oversleep the refresh).
const MAX_WAIT: Duration = Duration::from_secs(30);

pub struct Refresher {
    plan: Plan,
    opts: Options,
    cache: Cache,
    endpoint: Arc<Endpoint>,
    stop: Arc<Stop>,
    /// The served keys: when they were got, when they expire.
    got: SystemTime,
    expires: SystemTime,
    next_try: SystemTime,
    /// When the keys can no longer be renewed without a code, if known.
    end: Option<SystemTime>,
    warned_end: Option<SystemTime>,
    last_failure: Option<String>,
}

impl Refresher {
    /// `opts` as the command line gave them; `expires`: of the keys served now.
    pub fn new(
        plan: Plan,
        opts: &Options,
        endpoint: Arc<Endpoint>,
        stop: Arc<Stop>,
        expires: SystemTime,
    ) -> Refresher {
        let mut plan = plan;
        // Said once already, before the command started.
        plan.notes.clear();
        let opts = Options {
            token_code: None,
            prompt: false,
            mfa_process: false,
            ..opts.clone()
        };
        let now = SystemTime::now();
        let mut refresher = Refresher {
            plan,
            cache: Cache::open(),
            endpoint,
            stop,
            got: now,
            expires,
            next_try: refresh_at(now, expires, opts.min_ttl),
            opts,
            end: None,
            warned_end: None,
            last_failure: None,
        };
        refresher.end = refresher.renewable_until();
        refresher
    }

    /// Runs until `stop` is set.
    pub fn run(mut self) {
        loop {
            let warn_at = self.warn_at();
            let wake = warn_at.map_or(self.next_try, |w| w.min(self.next_try));
            let wait = wake
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .min(MAX_WAIT);
            if self.stop.wait(wait) {
                return;
            }
            let now = SystemTime::now();
            if warn_at.is_some_and(|w| now >= w) {
                self.warn_end(now);
            }
            if now >= self.next_try {
                self.try_refresh(now);
            }
        }
    }

    /// When the end warning is due (`None`: unknown, or said already).
    fn warn_at(&self) -> Option<SystemTime> {
        let end = self.end?;
        if self.warned_end == Some(end) {
            return None;
        }
        Some(end.checked_sub(WARN_AHEAD).unwrap_or(end))
    }

    fn warn_end(&mut self, now: SystemTime) {
        let Some(end) = self.end else { return };
        self.warned_end = Some(end);
        let profile = &self.plan.profile;
        let left = end.duration_since(now).unwrap_or_default();
        crate::ui::warning(format_args!(
            "credential server: the MFA session of `{profile}` ends at {} (in {}); after that the command gets no new keys. To go on, run `mfaenv forget {profile}; mfaenv login {profile}` in another terminal",
            rfc3339(end),
            human(left)
        ));
    }

    fn try_refresh(&mut self, now: SystemTime) {
        // Keys that outlast the served ones: from the cache when another
        // mfaenv renewed them already, else from STS.
        let left = self.expires.duration_since(now).unwrap_or_default();
        let opts = Options {
            min_ttl: (left + MIN_INTERVAL).max(self.opts.min_ttl),
            ..self.opts.clone()
        };
        let result = resolve::credentials(&self.plan, &opts, &self.cache);
        match result {
            Ok(creds) if creds.expiration.is_some_and(|e| e > self.expires) => {
                self.renewed(&creds, now)
            }
            Ok(_) => self.failed(
                now,
                "STS gave keys that do not outlast the served ones".into(),
            ),
            Err(err) => self.failed(now, format!("{err:#}")),
        }
    }

    fn renewed(&mut self, creds: &Credentials, now: SystemTime) {
        let Some(expires) = creds.expiration else {
            return;
        };
        if let Err(err) = self.endpoint.serve(creds) {
            return self.failed(now, format!("{err:#}"));
        }
        if self.last_failure.take().is_some() {
            crate::ui::info(format_args!(
                "credential server: renewed the keys of `{}` (until {})",
                self.plan.profile,
                rfc3339(expires)
            ));
        }
        self.got = now;
        self.expires = expires;
        self.next_try = refresh_at(now, expires, self.opts.min_ttl);
        self.end = self.renewable_until();
    }

    fn failed(&mut self, now: SystemTime, reason: String) {
        if self.last_failure.as_deref() != Some(reason.as_str()) {
            crate::ui::warning(format_args!(
                "credential server: cannot renew the keys of `{}`: {reason}; the command's keys end at {}",
                self.plan.profile,
                rfc3339(self.expires)
            ));
        }
        self.endpoint.fail(&reason);
        self.last_failure = Some(reason);
        let left = self.expires.duration_since(now).unwrap_or_default();
        self.next_try = now + retry_delay(left);
    }

    /// Until when the keys can be renewed with no code: the MFA session's
    /// end when roles are assumed from it; the served keys' own end when
    /// they need a code themselves; `None` when no code is ever needed (or
    /// the cache cannot say).
    fn renewable_until(&self) -> Option<SystemTime> {
        // A source that signs in itself renews with no code (a refresh
        // token), or says when it cannot.
        if !self.plan.source.kind.has_keys() {
            return None;
        }
        if self.plan.mode == MfaMode::Session && !self.plan.roles.is_empty() {
            let steps = resolve::steps(&self.plan);
            let session = self.cache.get(&steps.first()?.key, Duration::ZERO)?;
            // The cache counts a session with less than this left as expired.
            return session.expiration?.checked_sub(resolve::DEFAULT_MIN_TTL);
        }
        self.plan.mfa_serial.as_ref().map(|_| self.expires)
    }
}

/// When keys got at `got` that expire at `expires` are renewed: `LEAD`
/// before they have `min_ttl` left, but not before half their life (nor
/// later than `min_ttl` before the end, nor sooner than `MIN_INTERVAL`).
fn refresh_at(got: SystemTime, expires: SystemTime, min_ttl: Duration) -> SystemTime {
    let life = expires.duration_since(got).unwrap_or_default();
    let latest = expires.checked_sub(min_ttl).unwrap_or(got).max(got);
    let halfway = (got + life / 2).min(latest);
    let early = expires.checked_sub(min_ttl + LEAD).unwrap_or(got);
    early.max(halfway).max(got + MIN_INTERVAL)
}

/// After a failed refresh: a quarter of what is left, between 1 s and 1 min.
fn retry_delay(left: Duration) -> Duration {
    (left / 4).clamp(MIN_INTERVAL, Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + secs)
    }

    #[test]
    fn refresh_times() {
        let min = Duration::from_secs(300);
        // An hour: 15 min before the end, so no SDK window is ever reached.
        assert_eq!(refresh_at(at(0), at(3600), min), at(3600 - 900));
        // 15 minutes: halfway, still before the minimum TTL.
        assert_eq!(refresh_at(at(0), at(900), min), at(450));
        // Short (the tests' fake STS): halfway.
        assert_eq!(refresh_at(at(0), at(6), Duration::from_secs(2)), at(3));
        // A minimum TTL over half the life: as late as it allows.
        assert_eq!(refresh_at(at(0), at(600), min), at(300));
        // Expired at once, or already: not before MIN_INTERVAL.
        assert_eq!(refresh_at(at(0), at(0), min), at(1));
        assert_eq!(refresh_at(at(10), at(5), min), at(11));
    }

    #[test]
    fn retry_delays() {
        assert_eq!(retry_delay(Duration::ZERO), Duration::from_secs(1));
        assert_eq!(
            retry_delay(Duration::from_secs(40)),
            Duration::from_secs(10)
        );
        assert_eq!(
            retry_delay(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
    }
}
