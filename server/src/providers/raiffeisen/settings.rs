//! The Raiffeisen module's settings: the bank's addresses, the merchant's secret key (never
//! shown), how the console, the CLI and `QRPAY_RAIFFEISEN_*` values are checked, and the
//! settings for stores without their own row.

pub const PRODUCTION_BASE_URL: &str = "https://pay.raif.ru/api";
pub const TEST_BASE_URL: &str = "https://pay-test.raif.ru/api";
pub const MODULE: &str = "raiffeisen";

/// The merchant's secret key: shown nowhere, `Debug` masks it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let key = raw.trim();
        if key.is_empty() {
            return Err("the secret key is empty".into());
        }
        if key.chars().any(|c| c.is_control() || c == ' ') {
            return Err("the secret key has spaces or control characters".into());
        }
        Ok(Self(key.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// `prod`, `test` or a custom `http(s)://…` URL (the emulator) as the API base.
///
/// The secret key goes to this address as a Bearer header, so it must be https; plain http only
/// to a loopback address (127.0.0.0/8, [::1]: the bank emulator) outside production mode.
pub fn parse_base_url(choice: &str, production: bool) -> Result<String, String> {
    let url = match choice.trim() {
        "prod" | "production" => return Ok(PRODUCTION_BASE_URL.into()),
        "test" => return Ok(TEST_BASE_URL.into()),
        url => url,
    };
    let refused = || {
        let http = if production {
            ""
        } else {
            ", or http:// to 127.0.0.0/8 or [::1]"
        };
        format!("base URL must be prod, test or an https:// URL{http} (got {url:?})")
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| refused())?;
    let loopback = parsed
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|h| h.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(url.trim_end_matches('/').to_owned()),
        "http" if loopback && !production => Ok(url.trim_end_matches('/').to_owned()),
        _ => Err(refused()),
    }
}

/// `sbpMerchantId`: 1–12 letters and digits (e.g. `MA0000000552`).
pub fn parse_merchant_id(raw: &str) -> Result<String, String> {
    let id = raw.trim();
    if id.is_empty() || id.len() > 12 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "sbpMerchantId must be 1-12 letters and digits (got {id:?})"
        ));
    }
    Ok(id.to_owned())
}

/// One store's settings as the module uses them.
#[derive(Debug, Clone)]
pub struct RaiffeisenSettings {
    pub base_url: String,
    pub sbp_merchant_id: String,
    pub secret_key: SecretKey,
}

/// Settings for stores without their own row, from `QRPAY_RAIFFEISEN_*` (headless setups).
#[derive(Debug, Clone, Default)]
pub struct RaiffeisenDefaults(pub(super) Option<RaiffeisenSettings>);

impl RaiffeisenDefaults {
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let (Some(merchant), Some(key)) = (
            var("QRPAY_RAIFFEISEN_MERCHANT_ID"),
            var("QRPAY_RAIFFEISEN_SECRET_KEY"),
        ) else {
            return Self(None);
        };
        let base = var("QRPAY_RAIFFEISEN_BASE_URL").unwrap_or_else(|| "test".into());
        match (
            parse_base_url(&base, crate::config::production_from_env()),
            parse_merchant_id(&merchant),
            SecretKey::parse(&key),
        ) {
            (Ok(base_url), Ok(sbp_merchant_id), Ok(secret_key)) => Self(Some(RaiffeisenSettings {
                base_url,
                sbp_merchant_id,
                secret_key,
            })),
            (base, merchant, key) => {
                let why: Vec<String> = [base.err(), merchant.err(), key.err()]
                    .into_iter()
                    .flatten()
                    .collect();
                tracing::error!(why = %why.join("; "), "QRPAY_RAIFFEISEN_* settings ignored");
                Self(None)
            }
        }
    }

    pub fn new(settings: Option<RaiffeisenSettings>) -> Self {
        Self(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_key_never_shows_in_debug_output() {
        let s = RaiffeisenSettings {
            base_url: TEST_BASE_URL.into(),
            sbp_merchant_id: "MA0000000552".into(),
            secret_key: SecretKey::parse("eyJsecret.value").unwrap(),
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("eyJsecret"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn base_url_choices_are_prod_test_or_a_url() {
        assert_eq!(parse_base_url("prod", true).unwrap(), PRODUCTION_BASE_URL);
        assert_eq!(parse_base_url("test", false).unwrap(), TEST_BASE_URL);
        assert!(parse_base_url("http://evil.example/api", false).is_err());
        assert!(parse_base_url("http://127.0.0.1:9000/api", true).is_err());
        assert!(parse_base_url("http://[::1]:9000/api", false).is_ok());
        assert!(parse_base_url("http://127.8.0.1/api", false).is_ok());
        assert!(parse_base_url("http://localhost.evil.example/api", false).is_err());
        assert_eq!(
            parse_base_url("https://pay.example/api/", true).unwrap(),
            "https://pay.example/api"
        );
        assert_eq!(
            parse_base_url("http://127.0.0.1:9000/api/", false).unwrap(),
            "http://127.0.0.1:9000/api"
        );
        assert!(parse_base_url("ftp://x", false).is_err());
        assert!(parse_merchant_id("MA0000000552").is_ok());
        assert!(parse_merchant_id("MA00000005520").is_err());
        assert!(parse_merchant_id("").is_err());
    }
}
