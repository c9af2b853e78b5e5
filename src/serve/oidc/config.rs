//! The OpenID Connect providers people may sign in with (`serve.oidc` in `rats.yaml`):
//!
//! ```yaml
//! serve:
//!   oidc:
//!     public_url: https://rats.example.org     # where browsers reach rats (else its address)
//!     providers:
//!       - name: corp                           # in the URLs: /v1/auth/oidc/corp/login
//!         issuer: https://id.example.org
//!         client_id: rats
//!         client_secret_env: CORP_OIDC_SECRET   # or client_secret: …
//!         role_claim: groups                   # a string or a list of strings
//!         roles: {rats-admins: admin, market-analysts: analyst}
//!         default_role: api_user               # else people no rule maps are refused
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::accounts::Role;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// The URL browsers reach this server at; the providers send people back to
    /// `{public_url}/v1/auth/oidc/{name}/callback`. Default: the address `rats serve` listens on.
    #[serde(default)]
    pub public_url: Option<String>,
    #[serde(default)]
    pub providers: Vec<ProviderSettings>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    pub name: String,
    /// The provider's issuer identifier, exactly as its discovery document and tokens give it.
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The environment variable holding the client secret (kept out of the settings file).
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// Scopes asked for; `openid` is always among them.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The claim whose value(s) `roles` maps.
    #[serde(default)]
    pub role_claim: Option<String>,
    /// Claim value → role; a person with several gets the most powerful.
    #[serde(default)]
    pub roles: BTreeMap<String, Role>,
    /// The role of people no rule maps; without it they are refused.
    #[serde(default)]
    pub default_role: Option<Role>,
    /// The claim a new user's name comes from (else `email`, else the subject).
    #[serde(default = "default_username_claim")]
    pub username_claim: String,
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(String::from).to_vec()
}

fn default_username_claim() -> String {
    "preferred_username".to_string()
}

impl OidcSettings {
    /// What is wrong with the settings, if anything: names that are not URL segments or appear
    /// twice, issuers that are not http(s) URLs, two sources of one secret, rules without a claim.
    pub fn check(&self) -> Result<(), String> {
        if let Some(url) = &self.public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(format!("public_url {url:?} is not an http(s) URL"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for provider in &self.providers {
            let name = &provider.name;
            let plain = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if name.is_empty() || name.len() > 32 || !plain {
                return Err(format!("provider name {name:?}: 1 to 32 characters of a-z, 0-9 and '-'"));
            }
            if !seen.insert(name) {
                return Err(format!("provider {name:?} is listed twice"));
            }
            if url::Url::parse(&provider.issuer).map_or(true, |u| !matches!(u.scheme(), "http" | "https")) {
                return Err(format!("provider {name:?}: issuer {:?} is not an http(s) URL", provider.issuer));
            }
            if provider.client_secret.is_some() && provider.client_secret_env.is_some() {
                return Err(format!("provider {name:?}: give client_secret or client_secret_env, not both"));
            }
            if !provider.roles.is_empty() && provider.role_claim.is_none() {
                return Err(format!("provider {name:?}: roles need role_claim, the claim they map"));
            }
        }
        Ok(())
    }
}

impl ProviderSettings {
    /// The role a person's claim values give: the most powerful one a rule maps, else the
    /// default role, else `None` (refused).
    pub fn role_for(&self, claim_values: &[String]) -> Option<Role> {
        let mapped: Vec<Role> = claim_values.iter().filter_map(|v| self.roles.get(v).copied()).collect();
        Role::ALL.into_iter().find(|role| mapped.contains(role)).or(self.default_role)
    }

    /// The scopes to ask for, `openid` first and once.
    pub fn scope(&self) -> String {
        let mut scopes = vec!["openid"];
        scopes.extend(self.scopes.iter().map(String::as_str).filter(|s| *s != "openid"));
        scopes.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(yaml: &str) -> ProviderSettings {
        serde_norway::from_str(yaml).expect("parses")
    }

    #[test]
    fn the_most_powerful_mapped_role_wins_and_unmapped_people_need_a_default() {
        let corp = provider(
            "{name: corp, issuer: 'https://id.example', client_id: rats, role_claim: groups, roles: {staff: api_user, admins: admin, analysts: analyst}}",
        );
        let role = |values: &[&str]| corp.role_for(&values.iter().map(ToString::to_string).collect::<Vec<_>>());
        assert_eq!(role(&["staff", "analysts"]), Some(Role::Analyst));
        assert_eq!(role(&["analysts", "admins", "staff"]), Some(Role::Admin));
        assert_eq!(role(&["visitors"]), None);
        assert_eq!(role(&[]), None);
        let open = ProviderSettings {
            default_role: Some(Role::ApiUser),
            ..corp
        };
        assert_eq!(open.role_for(&["visitors".into()]), Some(Role::ApiUser));
        assert_eq!(open.scope(), "openid email profile");
    }

    #[test]
    fn bad_settings_are_named() {
        let settings = |providers: &str| OidcSettings {
            public_url: None,
            providers: serde_norway::from_str(providers).expect("parses"),
        };
        let good = "[{name: corp, issuer: 'https://id.example', client_id: rats}]";
        assert_eq!(settings(good).check(), Ok(()));
        for (bad, says) in [
            ("[{name: Corp, issuer: 'https://id.example', client_id: rats}]", "provider name"),
            (
                "[{name: a, issuer: 'https://x', client_id: r}, {name: a, issuer: 'https://y', client_id: r}]",
                "twice",
            ),
            ("[{name: corp, issuer: 'id.example', client_id: rats}]", "issuer"),
            (
                "[{name: corp, issuer: 'https://x', client_id: r, client_secret: s, client_secret_env: S}]",
                "not both",
            ),
            ("[{name: corp, issuer: 'https://x', client_id: r, roles: {a: admin}}]", "role_claim"),
        ] {
            let error = settings(bad).check().expect_err(bad);
            assert!(error.contains(says), "{bad}: {error}");
        }
        assert!(serde_norway::from_str::<ProviderSettings>("{name: c, issuer: 'https://x', client_id: r, roles: {a: root}}").is_err());
    }
}
