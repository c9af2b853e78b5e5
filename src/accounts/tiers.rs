//! Rate-limit tiers: how many requests a caller may make. A signed-in user's tier is in the
//! database (`free` unless an operator set `premium`), admins are always on the `admin` tier,
//! and requests without credentials share their client address's `anonymous` budget. Sign-in
//! and sign-up have a tighter budget of their own per address (`login`). The numbers come from
//! `rats.yaml` (`serve.rate_limits`).

use serde::{Deserialize, Serialize};

/// A caller's tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Anonymous,
    Free,
    Premium,
    Admin,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Anonymous => "anonymous",
            Tier::Free => "free",
            Tier::Premium => "premium",
            Tier::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A budget: `per_minute` requests on average, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub per_minute: u32,
    pub burst: u32,
}

impl std::fmt::Display for Quota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/min, burst {}", self.per_minute, self.burst)
    }
}

/// Every tier's budget, and sign-in's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    pub anonymous: Quota,
    pub free: Quota,
    pub premium: Quota,
    pub admin: Quota,
    /// `POST /v1/auth/login` and `/v1/auth/register`, per client address.
    pub login: Quota,
}

impl Default for RateLimits {
    fn default() -> Self {
        let quota = |per_minute, burst| Quota { per_minute, burst };
        RateLimits {
            anonymous: quota(60, 20),
            free: quota(600, 100),
            premium: quota(6_000, 1_000),
            admin: quota(60_000, 10_000),
            login: quota(10, 5),
        }
    }
}

impl RateLimits {
    pub fn of(&self, tier: Tier) -> Quota {
        match tier {
            Tier::Anonymous => self.anonymous,
            Tier::Free => self.free,
            Tier::Premium => self.premium,
            Tier::Admin => self.admin,
        }
    }

    /// Every budget with its setting's name (`rats config show`).
    pub fn named(&self) -> [(&'static str, Quota); 5] {
        [
            ("serve.rate_limits.anonymous", self.anonymous),
            ("serve.rate_limits.free", self.free),
            ("serve.rate_limits.premium", self.premium),
            ("serve.rate_limits.admin", self.admin),
            ("serve.rate_limits.login", self.login),
        ]
    }

    /// Budgets of zero would refuse everything: refused when the settings are read.
    pub fn check(&self) -> Result<(), String> {
        match self.named().into_iter().find(|(_, q)| q.per_minute == 0 || q.burst == 0) {
            Some((name, quota)) => Err(format!("{name} = {quota}")),
            None => Ok(()),
        }
    }
}
