//! A RabbitMQ broker URL (`amqp://` or `amqps://`), checked when built; it shows itself only with
//! its password hidden, so it can go into logs, the console and the audit log as it is.

use std::fmt;

/// A broker URL whose syntax was checked. `Display` and `Debug` hide the password; the full URL
/// (for connecting) is reached through `Deref<Target = str>`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AmqpUrl(String);

impl AmqpUrl {
    /// Trims and checks the URL, with a message (password hidden) that says what is wrong.
    pub fn parse(url: &str) -> Result<AmqpUrl, String> {
        check_url(url)?;
        Ok(AmqpUrl(url.trim().to_owned()))
    }

    /// A URL as it was stored: it was checked when it was saved, and refusing it now would make
    /// the store unreadable, so it is taken as it is.
    pub fn from_stored(url: String) -> AmqpUrl {
        AmqpUrl(url)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL with its password hidden.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

impl std::ops::Deref for AmqpUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AmqpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for AmqpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AmqpUrl({:?})", self.redacted())
    }
}

/// A broker URL with its password hidden, for logs, `/readyz` and the CLI.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Checks a broker URL's syntax (`amqp://` or `amqps://`), with a message that says what is wrong.
pub fn check_url(url: &str) -> Result<(), String> {
    let url = url.trim();
    if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
        return Err(format!(
            "a RabbitMQ URL starts with amqp:// or amqps:// (got {:?})",
            redact(url)
        ));
    }
    url.parse::<lapin::uri::AMQPUri>()
        .map(|_| ())
        .map_err(|e| format!("invalid RabbitMQ URL {}: {e}", redact(url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_broker_urls() {
        assert_eq!(
            redact("amqp://guest:secret@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact("amqp://127.0.0.1"), "amqp://127.0.0.1");
    }

    #[test]
    fn only_amqp_urls_are_accepted() {
        assert!(check_url("amqp://guest:guest@127.0.0.1:5672/%2f").is_ok());
        assert!(check_url("amqps://broker.example:5671/shop").is_ok());
        assert!(check_url("http://127.0.0.1:5672").is_err());
        assert!(check_url("").is_err());
    }

    #[test]
    fn a_parsed_url_is_trimmed_and_shows_no_password() {
        let url = AmqpUrl::parse(" amqp://guest:secret@127.0.0.1:5672/%2f ").unwrap();
        assert_eq!(&*url, "amqp://guest:secret@127.0.0.1:5672/%2f");
        assert_eq!(url.to_string(), "amqp://guest:***@127.0.0.1:5672/%2f");
        assert!(!format!("{url:?}").contains("secret"));
        assert!(AmqpUrl::parse("http://x").is_err());
    }
}
