//! CORS settings: which browser origins may call a service's API from another origin, read from
//! `APP__HTTP__CORS_ALLOWED_ORIGINS` (comma-separated exact origins).
//!
//! The default is none: without the variable a service sends no CORS headers, so browsers keep
//! every other site's scripts away from it. Origins are exact (`https://portal.example.com`,
//! `http://localhost:5173`), written as browsers send them in `Origin`, because the policy
//! compares them byte for byte; anything else is refused at start-up rather than never matching.

use super::SettingsError;

/// The variable the allowed origins are read from.
pub const CORS_ALLOWED_ORIGINS: &str = "APP__HTTP__CORS_ALLOWED_ORIGINS";

/// The browser origins allowed to call the API across origins; valid by construction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsSettings {
    allowed_origins: Vec<String>,
}

impl CorsSettings {
    /// The policy allowing exactly `origins`; refuses one that is not an exact `http(s)` origin
    /// as browsers write it (lower case, no default port, no path), `*` and `null` among them.
    pub fn new<I, S>(origins: I) -> Result<Self, SettingsError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut allowed_origins: Vec<String> = Vec::new();
        for origin in origins {
            let origin = origin.as_ref().trim();
            if origin.is_empty() {
                continue;
            }
            check_origin(origin).map_err(|reason| SettingsError {
                name: CORS_ALLOWED_ORIGINS.to_owned(),
                value: origin.to_owned(),
                reason,
            })?;
            if !allowed_origins.iter().any(|known| known == origin) {
                allowed_origins.push(origin.to_owned());
            }
        }
        Ok(Self { allowed_origins })
    }

    /// The allowed origins; empty means no cross-origin access.
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// Whether any origin is allowed (and the service answers CORS at all).
    pub fn is_enabled(&self) -> bool {
        !self.allowed_origins.is_empty()
    }
}

/// Reads and validates the allowed origins from `get`.
pub(super) fn from_env(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<CorsSettings, SettingsError> {
    match get(CORS_ALLOWED_ORIGINS) {
        None => Ok(CorsSettings::default()),
        Some(raw) => CorsSettings::new(raw.split(',')),
    }
}

/// Why `origin` is not an exact origin, if it is not.
fn check_origin(origin: &str) -> Result<(), String> {
    if origin == "*" {
        return Err(
            "`*` would let every website call the API with its users' tokens; list exact \
             origins"
                .into(),
        );
    }
    if origin == "null" {
        return Err("`null` is the origin of sandboxed pages and local files, not a site".into());
    }
    let (scheme, authority) = origin
        .split_once("://")
        .ok_or("expected scheme://host[:port], e.g. https://portal.example.com")?;
    let default_port = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return Err("the scheme must be http or https, in lower case".into()),
    };
    if authority.contains(['/', '?', '#']) {
        return Err("an origin has no path, query or fragment (no trailing slash either)".into());
    }
    if authority.contains('@') {
        return Err("an origin has no user name or password".into());
    }
    let (host, port) = split_port(authority)?;
    check_host(host)?;
    if let Some(port) = port {
        if port == default_port {
            return Err(format!(
                "browsers omit the default port {default_port} of {scheme}; leave it out"
            ));
        }
        let valid = !port.starts_with('0')
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok();
        if !valid {
            return Err("the port must be a number from 1 to 65535".into());
        }
    }
    Ok(())
}

/// The host and the port of an authority (`[::1]:8080`, `example.com`).
fn split_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    if authority.starts_with('[') {
        let end = authority
            .find(']')
            .ok_or("an IPv6 host needs its closing bracket")?;
        let (host, rest) = authority.split_at(end + 1);
        return match rest {
            "" => Ok((host, None)),
            _ => rest
                .strip_prefix(':')
                .map(|port| (host, Some(port)))
                .ok_or_else(|| "expected :port after the IPv6 host".to_owned()),
        };
    }
    Ok(match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

/// A host as browsers serialize it: lower-case DNS labels or IPv4, or a bracketed IPv6 address.
fn check_host(host: &str) -> Result<(), String> {
    if let Some(address) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let valid = address.parse::<std::net::Ipv6Addr>().is_ok()
            && !address.bytes().any(|b| b.is_ascii_uppercase());
        return if valid {
            Ok(())
        } else {
            Err("the IPv6 host is not an address in lower case".into())
        };
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
        return Err(
            "the host must be a domain name or address in lower case (letters, digits, `-`, `.`)"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(value: Option<&str>) -> Result<CorsSettings, SettingsError> {
        from_env(&|name: &str| {
            assert_eq!(name, CORS_ALLOWED_ORIGINS);
            value.map(str::to_owned)
        })
    }

    #[test]
    fn no_origin_is_allowed_by_default() {
        let settings = read(None).expect("default");
        assert!(!settings.is_enabled());
        assert!(settings.allowed_origins().is_empty());
        assert_eq!(settings, CorsSettings::default());
    }

    #[test]
    fn exact_origins_are_read_trimmed_and_deduplicated() {
        let settings = read(Some(
            " https://portal.example.com,http://localhost:5173 ,,http://127.0.0.1:8080,\
             https://portal.example.com,http://[::1]:3000",
        ))
        .expect("valid origins");
        assert_eq!(
            settings.allowed_origins(),
            [
                "https://portal.example.com",
                "http://localhost:5173",
                "http://127.0.0.1:8080",
                "http://[::1]:3000",
            ]
        );
        assert!(settings.is_enabled());
    }

    #[test]
    fn anything_but_an_exact_origin_is_refused_with_the_variable_named() {
        for bad in [
            "*",
            "null",
            "portal.example.com",
            "ftp://portal.example.com",
            "HTTPS://portal.example.com",
            "https://Portal.example.com",
            "https://portal.example.com/",
            "https://portal.example.com/app",
            "https://portal.example.com?x=1",
            "https://user@portal.example.com",
            "https://portal.example.com:443",
            "http://localhost:80",
            "http://localhost:0",
            "http://localhost:65536",
            "http://localhost:08080",
            "http://localhost:",
            "https://",
            "https://-bad.example.com",
            "https://bad..example.com",
            "https://exa mple.com",
            "http://[::1",
            "http://[::G]",
            "http://[::1]x",
        ] {
            let error = read(Some(&format!("https://ok.example.com,{bad}"))).expect_err(bad);
            assert_eq!(error.name, CORS_ALLOWED_ORIGINS, "{bad}");
            assert_eq!(error.value, bad.trim(), "{bad}");
            assert!(error.to_string().contains(CORS_ALLOWED_ORIGINS), "{error}");
        }
        assert!(
            read(Some("*"))
                .expect_err("wildcard")
                .reason
                .contains("exact origins")
        );
    }
}
