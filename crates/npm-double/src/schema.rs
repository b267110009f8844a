//! NPM's request validation, replayed: NPM checks bodies with Ajv (`additionalProperties: false`,
//! `coerceTypes: true`) against its JSON schema and answers the first problem as
//! `400 {"error":{"message":"data/forward_port must be integer"}}`. Values are coerced as Ajv
//! does (`"18400"` becomes 18400, `"true"` becomes true), so what NPM accepts is accepted here.

use serde_json::{Map, Value};

/// NPM's pattern for one domain name: none of `& | space @ ! # % ^ ( ) ; : / \ } { = + ? < > , ~`
/// backtick `'` `"`.
pub(crate) const DOMAIN_PATTERN: &str = r#"^[^&| @!#%^();:/\\}{=+?<>,~`'"]+$"#;
const DOMAIN_FORBIDDEN: &str = "&| @!#%^();:/\\}{=+?<>,~`'\"";

/// What one proxy host field may hold.
#[derive(Clone, Copy)]
enum Kind {
    DomainNames,
    Scheme,
    /// A string of 1 to 255 characters.
    HostName,
    Port,
    /// An integer ≥ 0, or `"new"`.
    CertificateId,
    NonNegative,
    Flag,
    Text,
    Object,
    Locations,
}

/// Every field of a proxy host body, in the order of NPM's schema.
const PROXY_HOST_FIELDS: &[(&str, Kind)] = &[
    ("domain_names", Kind::DomainNames),
    ("forward_scheme", Kind::Scheme),
    ("forward_host", Kind::HostName),
    ("forward_port", Kind::Port),
    ("access_list_id", Kind::NonNegative),
    ("certificate_id", Kind::CertificateId),
    ("ssl_forced", Kind::Flag),
    ("caching_enabled", Kind::Flag),
    ("block_exploits", Kind::Flag),
    ("advanced_config", Kind::Text),
    ("meta", Kind::Object),
    ("allow_websocket_upgrade", Kind::Flag),
    ("http2_support", Kind::Flag),
    ("enabled", Kind::Flag),
    ("locations", Kind::Locations),
    ("hsts_enabled", Kind::Flag),
    ("hsts_subdomains", Kind::Flag),
    ("trust_forwarded_proto", Kind::Flag),
];

const REQUIRED_ON_CREATE: &[&str] = &[
    "domain_names",
    "forward_scheme",
    "forward_host",
    "forward_port",
];

const LOCATION_FIELDS: &[(&str, Kind)] = &[
    ("id", Kind::NonNegative),
    ("path", Kind::HostName),
    ("forward_scheme", Kind::Scheme),
    ("forward_host", Kind::HostName),
    ("forward_port", Kind::Port),
    ("forward_path", Kind::Text),
    ("advanced_config", Kind::Text),
];
const LOCATION_REQUIRED: &[&str] = &["path", "forward_scheme", "forward_host", "forward_port"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Create,
    Update,
}

/// Checks a proxy host body and returns it with its values coerced, or NPM's message.
pub(crate) fn proxy_host(body: &Value, mode: Mode) -> Result<Map<String, Value>, String> {
    let Value::Object(fields) = body else {
        return Err("data must be object".to_owned());
    };
    if mode == Mode::Update && fields.is_empty() {
        return Err("data must NOT have fewer than 1 properties".to_owned());
    }
    if mode == Mode::Create {
        required(fields, REQUIRED_ON_CREATE, "data")?;
    }
    no_additional(fields, PROXY_HOST_FIELDS, "data")?;
    check_fields(fields, PROXY_HOST_FIELDS, "data")
}

/// Checks the login body: `identity` and `secret` (required strings) and `scope` (`"user"`).
pub(crate) fn login(body: &Value) -> Result<Map<String, Value>, String> {
    let Value::Object(fields) = body else {
        return Err("data must be object".to_owned());
    };
    required(fields, &["identity", "secret"], "data")?;
    let allowed = [
        ("identity", Kind::Text),
        ("secret", Kind::Text),
        ("scope", Kind::Text),
    ];
    no_additional(fields, &allowed, "data")?;
    let checked = check_fields(fields, &allowed, "data")?;
    if let Some(scope) = checked.get("scope")
        && scope != "user"
    {
        return Err("data/scope must be equal to one of the allowed values".to_owned());
    }
    Ok(checked)
}

fn required(fields: &Map<String, Value>, names: &[&str], at: &str) -> Result<(), String> {
    match names.iter().find(|name| !fields.contains_key(**name)) {
        Some(name) => Err(format!("{at} must have required property '{name}'")),
        None => Ok(()),
    }
}

fn no_additional(
    fields: &Map<String, Value>,
    allowed: &[(&str, Kind)],
    at: &str,
) -> Result<(), String> {
    if fields
        .keys()
        .any(|key| !allowed.iter().any(|(name, _)| name == key))
    {
        return Err(format!("{at} must NOT have additional properties"));
    }
    Ok(())
}

fn check_fields(
    fields: &Map<String, Value>,
    spec: &[(&str, Kind)],
    at: &str,
) -> Result<Map<String, Value>, String> {
    let mut res = Map::new();
    for (name, kind) in spec {
        if let Some(value) = fields.get(*name) {
            let path = format!("{at}/{name}");
            res.insert((*name).to_owned(), check(value, *kind, &path)?);
        }
    }
    Ok(res)
}

fn check(value: &Value, kind: Kind, at: &str) -> Result<Value, String> {
    match kind {
        Kind::DomainNames => domain_names(value, at),
        Kind::Scheme => {
            let scheme = string(value, at)?;
            if scheme != "http" && scheme != "https" {
                return Err(format!("{at} must be equal to one of the allowed values"));
            }
            Ok(Value::String(scheme))
        }
        Kind::HostName => {
            let text = string(value, at)?;
            length(&text, 1, 255, at)?;
            Ok(Value::String(text))
        }
        Kind::Port => {
            let port = integer(value, at)?;
            if port < 1 {
                return Err(format!("{at} must be >= 1"));
            }
            if port > 65535 {
                return Err(format!("{at} must be <= 65535"));
            }
            Ok(Value::from(port))
        }
        Kind::CertificateId => {
            if value == "new" {
                return Ok(value.clone());
            }
            match integer(value, at) {
                Ok(id) if id >= 0 => Ok(Value::from(id)),
                _ => Err(format!("{at} must match exactly one schema in oneOf")),
            }
        }
        Kind::NonNegative => {
            if value.is_null() && at.contains("/locations/") {
                return Ok(Value::Null);
            }
            let number = integer(value, at)?;
            if number < 0 {
                return Err(format!("{at} must be >= 0"));
            }
            Ok(Value::from(number))
        }
        Kind::Flag => flag(value, at).map(Value::Bool),
        Kind::Text => string(value, at).map(Value::String),
        Kind::Object => match value {
            Value::Object(_) => Ok(value.clone()),
            _ => Err(format!("{at} must be object")),
        },
        Kind::Locations => locations(value, at),
    }
}

fn domain_names(value: &Value, at: &str) -> Result<Value, String> {
    let Value::Array(items) = value else {
        return Err(format!("{at} must be array"));
    };
    if items.len() > 100 {
        return Err(format!("{at} must NOT have more than 100 items"));
    }
    if items.is_empty() {
        return Err(format!("{at} must NOT have fewer than 1 items"));
    }
    for (later, item) in items.iter().enumerate() {
        if let Some(earlier) = items[..later].iter().position(|other| other == item) {
            return Err(format!(
                "{at} must NOT have duplicate items (items ## {later} and {earlier} are identical)"
            ));
        }
    }
    let mut names = Vec::with_capacity(items.len());
    for (idx, item) in items.iter().enumerate() {
        let path = format!("{at}/{idx}");
        let name = string(item, &path)?;
        if name.is_empty() || name.chars().any(|c| DOMAIN_FORBIDDEN.contains(c)) {
            return Err(format!("{path} must match pattern \"{DOMAIN_PATTERN}\""));
        }
        names.push(Value::String(name));
    }
    Ok(Value::Array(names))
}

fn locations(value: &Value, at: &str) -> Result<Value, String> {
    let Value::Array(items) = value else {
        return Err(format!("{at} must be array"));
    };
    let mut res = Vec::with_capacity(items.len());
    for (idx, item) in items.iter().enumerate() {
        let path = format!("{at}/{idx}");
        let Value::Object(fields) = item else {
            return Err(format!("{path} must be object"));
        };
        required(fields, LOCATION_REQUIRED, &path)?;
        no_additional(fields, LOCATION_FIELDS, &path)?;
        res.push(Value::Object(check_fields(fields, LOCATION_FIELDS, &path)?));
    }
    Ok(Value::Array(res))
}

fn length(text: &str, min: usize, max: usize, at: &str) -> Result<(), String> {
    let count = text.chars().count();
    if count < min {
        return Err(format!("{at} must NOT have fewer than {min} characters"));
    }
    if count > max {
        return Err(format!("{at} must NOT have more than {max} characters"));
    }
    Ok(())
}

/// A string, coerced from a number, a boolean or `null` as Ajv does.
fn string(value: &Value, at: &str) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Null => Ok(String::new()),
        _ => Err(format!("{at} must be string")),
    }
}

/// An integer, coerced from a numeric string, a boolean or `null` as Ajv does.
fn integer(value: &Value, at: &str) -> Result<i64, String> {
    let number = match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) if !text.trim().is_empty() => text.trim().parse::<f64>().ok(),
        Value::Bool(flag) => Some(f64::from(u8::from(*flag))),
        Value::Null => Some(0.0),
        _ => None,
    };
    match number {
        Some(number) if number.fract() == 0.0 && number.abs() < 9.0e15 => Ok(number as i64),
        _ => Err(format!("{at} must be integer")),
    }
}

/// A boolean, coerced from `"true"`/`"false"`, 1/0 or `null` as Ajv does.
fn flag(value: &Value, at: &str) -> Result<bool, String> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::String(text) if text == "true" => Ok(true),
        Value::String(text) if text == "false" => Ok(false),
        Value::Number(number) if number.as_f64() == Some(1.0) => Ok(true),
        Value::Number(number) if number.as_f64() == Some(0.0) => Ok(false),
        Value::Null => Ok(false),
        _ => Err(format!("{at} must be boolean")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create(body: Value) -> Result<Map<String, Value>, String> {
        proxy_host(&body, Mode::Create)
    }

    fn minimal() -> Value {
        json!({"domain_names": ["a.test"], "forward_scheme": "http", "forward_host": "web", "forward_port": 80})
    }

    fn with(field: &str, value: Value) -> Value {
        let mut body = minimal();
        body[field] = value;
        body
    }

    #[test]
    fn a_minimal_body_passes_and_numbers_in_strings_are_coerced() {
        assert!(create(minimal()).is_ok());
        let coerced = create(with("forward_port", json!("18400"))).unwrap();
        assert_eq!(coerced["forward_port"], json!(18400));
        let coerced = create(with("ssl_forced", json!("true"))).unwrap();
        assert_eq!(coerced["ssl_forced"], json!(true));
    }

    #[test]
    fn npm_messages_for_each_kind_of_mistake() {
        let cases = [
            (json!([]), "data must be object"),
            (
                json!({"domain_names": ["a.test"]}),
                "data must have required property 'forward_scheme'",
            ),
            (
                with("enables", json!(true)),
                "data must NOT have additional properties",
            ),
            (
                with("forward_port", json!("eighty")),
                "data/forward_port must be integer",
            ),
            (
                with("forward_port", json!(0)),
                "data/forward_port must be >= 1",
            ),
            (
                with("forward_port", json!(70000)),
                "data/forward_port must be <= 65535",
            ),
            (
                with("forward_scheme", json!("HTTP")),
                "data/forward_scheme must be equal to one of the allowed values",
            ),
            (
                with("domain_names", json!([])),
                "data/domain_names must NOT have fewer than 1 items",
            ),
            (
                with("domain_names", json!("a.test")),
                "data/domain_names must be array",
            ),
            (
                with("domain_names", json!(["a.test", "a.test"])),
                "data/domain_names must NOT have duplicate items (items ## 1 and 0 are identical)",
            ),
            (
                with("forward_host", json!("")),
                "data/forward_host must NOT have fewer than 1 characters",
            ),
            (
                with("ssl_forced", json!("yes")),
                "data/ssl_forced must be boolean",
            ),
            (with("meta", json!([])), "data/meta must be object"),
            (
                with(
                    "locations",
                    json!([{"path": "/", "forward_scheme": "http", "forward_host": "a", "forward_port": 1, "extra": 1}]),
                ),
                "data/locations/0 must NOT have additional properties",
            ),
            (
                with("certificate_id", json!("old")),
                "data/certificate_id must match exactly one schema in oneOf",
            ),
        ];
        for (body, message) in cases {
            assert_eq!(create(body.clone()).unwrap_err(), message, "{body}");
        }
    }

    #[test]
    fn domain_names_with_forbidden_characters_fail_the_pattern() {
        for name in ["a.test:8443", "a.test/x", "a b.test", "", "a@b.test"] {
            let message = create(with("domain_names", json!(["ok.test", name]))).unwrap_err();
            assert!(
                message.starts_with("data/domain_names/1 must match pattern \"^[^&| @!#%^();:/"),
                "{name}: {message}"
            );
        }
        assert!(create(with("domain_names", json!(["*.example.test"]))).is_ok());
    }

    #[test]
    fn an_update_needs_at_least_one_field_and_nothing_else() {
        assert_eq!(
            proxy_host(&json!({}), Mode::Update).unwrap_err(),
            "data must NOT have fewer than 1 properties"
        );
        assert!(proxy_host(&json!({"forward_port": 81}), Mode::Update).is_ok());
    }

    #[test]
    fn login_bodies() {
        assert!(login(&json!({"identity": "a@b.c", "secret": "x"})).is_ok());
        assert!(login(&json!({"identity": "a@b.c", "secret": "x", "scope": "user"})).is_ok());
        assert_eq!(
            login(&json!({"identity": "a@b.c", "secret": "x", "expiry": "1y"})).unwrap_err(),
            "data must NOT have additional properties"
        );
        assert_eq!(
            login(&json!({"identity": "a@b.c"})).unwrap_err(),
            "data must have required property 'secret'"
        );
        assert_eq!(
            login(&json!({"identity": "a@b.c", "secret": "x", "scope": "admin"})).unwrap_err(),
            "data/scope must be equal to one of the allowed values"
        );
    }
}
