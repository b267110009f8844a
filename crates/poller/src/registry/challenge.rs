//! `WWW-Authenticate` headers (RFC 9110 §11.6.1), parsed properly rather than split on commas.
//!
//! Splitting on `,` breaks real registries: a Bearer scope such as
//! `scope="repository:team/app:pull,push"` holds a comma, one header may carry several
//! challenges (`Basic realm="x", Bearer realm="…"`), and quoted values may escape quotes. A comma
//! is therefore a parameter separator or a challenge separator depending on what follows it: a
//! `name=` starts another parameter, anything else a new challenge.

use std::fmt;

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    /// As written; compare with [`Challenge::is`], schemes are case-insensitive.
    pub scheme: String,
    /// Parameter names lowercased (they are case-insensitive), values unquoted and unescaped.
    pub params: Vec<(String, String)>,
    /// The rare `Scheme token68` form (e.g. `Negotiate abc==`), kept so it is not misread.
    pub token68: Option<String>,
}

impl Challenge {
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// First value of a parameter, by case-insensitive name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// The challenge the client answers, picked from everything the registry offered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum AuthChallenge {
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Basic,
}

/// Why a `WWW-Authenticate` header could not be used.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ChallengeError {
    #[error("the header is empty")]
    Empty,
    #[error("expected an auth scheme at byte {at}")]
    ExpectedScheme { at: usize },
    #[error("expected '=' after parameter {name:?} at byte {at}")]
    ExpectedEquals { name: String, at: usize },
    #[error("expected a value for parameter {name:?} at byte {at}")]
    ExpectedValue { name: String, at: usize },
    #[error("unterminated quoted string starting at byte {at}")]
    UnterminatedQuote { at: usize },
    #[error("unexpected character {found:?} at byte {at}")]
    Unexpected { found: char, at: usize },
    #[error("the Bearer challenge has no realm to ask for a token")]
    BearerWithoutRealm,
    #[error("no Bearer or Basic challenge among {schemes}")]
    NoSupportedScheme { schemes: SchemeList },
}

/// Scheme names for an error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeList(pub Vec<String>);

impl fmt::Display for SchemeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}

/// Parses every challenge of a header value (or of several header lines joined with `, `).
pub(crate) fn parse(header: &str) -> Result<Vec<Challenge>, ChallengeError> {
    let mut parser = Parser {
        s: header.as_bytes(),
        pos: 0,
    };
    let mut challenges = Vec::new();
    loop {
        parser.skip_separators();
        if parser.at_end() {
            break;
        }
        challenges.push(parser.challenge()?);
    }
    if challenges.is_empty() {
        return Err(ChallengeError::Empty);
    }
    Ok(challenges)
}

/// Picks the challenge to answer: Bearer when offered (a token scoped to one repository is
/// what registries that offer both prefer), else Basic.
pub(crate) fn select(challenges: &[Challenge]) -> Result<AuthChallenge, ChallengeError> {
    if let Some(bearer) = challenges.iter().find(|c| c.is("Bearer")) {
        let realm = bearer
            .param("realm")
            .filter(|realm| !realm.is_empty())
            .ok_or(ChallengeError::BearerWithoutRealm)?;
        return Ok(AuthChallenge::Bearer {
            realm: realm.to_owned(),
            service: bearer.param("service").map(str::to_owned),
            scope: bearer
                .param("scope")
                .filter(|scope| !scope.is_empty())
                .map(str::to_owned),
        });
    }
    if challenges.iter().any(|c| c.is("Basic")) {
        return Ok(AuthChallenge::Basic);
    }
    Err(ChallengeError::NoSupportedScheme {
        schemes: SchemeList(challenges.iter().map(|c| c.scheme.clone()).collect()),
    })
}

/// [`parse`] then [`select`].
pub(crate) fn parse_and_select(header: &str) -> Result<AuthChallenge, ChallengeError> {
    select(&parse(header)?)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 `token68` characters, without the trailing `=` padding.
fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// List syntax allows empty elements: `a, , b`.
    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        // tchar is ASCII, so this slice is valid UTF-8.
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or_default()
    }

    fn unexpected(&self) -> ChallengeError {
        let rest = String::from_utf8_lossy(&self.s[self.pos..]);
        ChallengeError::Unexpected {
            found: rest.chars().next().unwrap_or('\u{fffd}'),
            at: self.pos,
        }
    }

    fn challenge(&mut self) -> Result<Challenge, ChallengeError> {
        let at = self.pos;
        let scheme = self.token().to_owned();
        if scheme.is_empty() {
            return Err(ChallengeError::ExpectedScheme { at });
        }
        let mut challenge = Challenge {
            scheme,
            params: Vec::new(),
            token68: None,
        };
        match self.peek() {
            None | Some(b',') => return Ok(challenge),
            Some(b' ' | b'\t') => self.skip_ws(),
            Some(_) => return Err(self.unexpected()),
        }
        if let Some(token68) = self.try_token68() {
            challenge.token68 = Some(token68);
            return Ok(challenge);
        }
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Ok(challenge),
                Some(b',') => {
                    let comma = self.pos;
                    self.skip_separators();
                    if self.at_end() {
                        return Ok(challenge);
                    }
                    if !self.param_follows() {
                        // Not `name=`: the next challenge starts here.
                        self.pos = comma;
                        return Ok(challenge);
                    }
                }
                Some(_) if challenge.params.is_empty() => {}
                Some(_) => return Err(self.unexpected()),
            }
            let param = self.param()?;
            challenge.params.push(param);
        }
    }

    /// Whether `name =` (a parameter) starts at the current position; does not move.
    fn param_follows(&mut self) -> bool {
        let start = self.pos;
        let has_name = !self.token().is_empty();
        self.skip_ws();
        let follows = has_name && self.peek() == Some(b'=');
        self.pos = start;
        follows
    }

    /// `token68` followed by the end or a comma; anything else is parameters, so rewind.
    fn try_token68(&mut self) -> Option<String> {
        let start = self.pos;
        while self.peek().is_some_and(is_token68_char) {
            self.pos += 1;
        }
        if self.pos == start {
            return None;
        }
        while self.peek() == Some(b'=') {
            self.pos += 1;
        }
        let end = self.pos;
        self.skip_ws();
        if matches!(self.peek(), None | Some(b',')) {
            return Some(String::from_utf8_lossy(&self.s[start..end]).into_owned());
        }
        self.pos = start;
        None
    }

    fn param(&mut self) -> Result<(String, String), ChallengeError> {
        let at = self.pos;
        let name = self.token().to_ascii_lowercase();
        if name.is_empty() {
            return Err(if self.at_end() {
                ChallengeError::ExpectedScheme { at }
            } else {
                self.unexpected()
            });
        }
        self.skip_ws();
        if self.peek() != Some(b'=') {
            return Err(ChallengeError::ExpectedEquals { name, at: self.pos });
        }
        self.pos += 1;
        self.skip_ws();
        let value = match self.peek() {
            Some(b'"') => self.quoted()?,
            _ => {
                let value = self.token().to_owned();
                if value.is_empty() {
                    return Err(ChallengeError::ExpectedValue { name, at: self.pos });
                }
                value
            }
        };
        Ok((name, value))
    }

    /// A quoted-string, with `\x` quoted-pairs unescaped to `x`.
    fn quoted(&mut self) -> Result<String, ChallengeError> {
        let start = self.pos;
        self.pos += 1;
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return Err(ChallengeError::UnterminatedQuote { at: start }),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(String::from_utf8_lossy(&value).into_owned());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(escaped) = self.peek() else {
                        return Err(ChallengeError::UnterminatedQuote { at: start });
                    };
                    value.push(escaped);
                    self.pos += 1;
                }
                Some(b) => {
                    value.push(b);
                    self.pos += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(realm: &str, service: Option<&str>, scope: Option<&str>) -> AuthChallenge {
        AuthChallenge::Bearer {
            realm: realm.to_owned(),
            service: service.map(str::to_owned),
            scope: scope.map(str::to_owned),
        }
    }

    #[test]
    fn a_comma_inside_a_quoted_scope_stays_in_the_value() {
        let header = r#"Bearer realm="https://registry.example.com/v2/token",service="registry.example.com",scope="repository:team/app:pull,push""#;
        assert_eq!(
            parse_and_select(header).unwrap(),
            bearer(
                "https://registry.example.com/v2/token",
                Some("registry.example.com"),
                Some("repository:team/app:pull,push"),
            )
        );
        assert_eq!(parse(header).unwrap().len(), 1);
    }

    #[test]
    fn several_challenges_in_one_header_prefer_bearer() {
        let header = r#"Basic realm="x", Bearer realm="https://auth.example.com/token",service="registry.example.com""#;
        let challenges = parse(header).unwrap();
        assert_eq!(challenges.len(), 2);
        assert!(challenges[0].is("basic"));
        assert_eq!(challenges[0].param("realm"), Some("x"));
        assert_eq!(
            select(&challenges).unwrap(),
            bearer(
                "https://auth.example.com/token",
                Some("registry.example.com"),
                None
            )
        );
    }

    #[test]
    fn a_challenge_after_parameters_is_a_new_challenge() {
        let header = r#"Bearer realm="r", service=s, Basic realm="b", Negotiate abc=="#;
        let challenges = parse(header).unwrap();
        let schemes: Vec<_> = challenges.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Bearer", "Basic", "Negotiate"]);
        assert_eq!(challenges[0].param("service"), Some("s"));
        assert_eq!(challenges[2].token68.as_deref(), Some("abc=="));
    }

    #[test]
    fn quoted_pairs_are_unescaped() {
        let challenges = parse(r#"Bearer realm="r",scope="a\"b",x="back\\slash""#).unwrap();
        assert_eq!(challenges[0].param("scope"), Some("a\"b"));
        assert_eq!(challenges[0].param("x"), Some("back\\slash"));
    }

    #[test]
    fn scheme_and_parameter_names_are_case_insensitive() {
        assert_eq!(
            parse_and_select(r#"BASIC realm="Nexus""#).unwrap(),
            AuthChallenge::Basic
        );
        assert_eq!(
            parse_and_select(r#"bearer REALM="https://a/token", Service="svc""#).unwrap(),
            bearer("https://a/token", Some("svc"), None)
        );
    }

    #[test]
    fn whitespace_around_equals_and_empty_list_elements_are_accepted() {
        let challenges = parse(r#" , Bearer realm = "r" ,, service= "s" , "#).unwrap();
        assert_eq!(challenges.len(), 1);
        assert_eq!(challenges[0].param("realm"), Some("r"));
        assert_eq!(challenges[0].param("service"), Some("s"));
    }

    #[test]
    fn the_registry_basic_challenge_parses() {
        assert_eq!(
            parse_and_select(r#"Basic realm="Registry Realm""#).unwrap(),
            AuthChallenge::Basic
        );
    }

    #[test]
    fn unusable_headers_are_clear_errors() {
        assert_eq!(parse(""), Err(ChallengeError::Empty));
        assert_eq!(parse(" , "), Err(ChallengeError::Empty));
        assert_eq!(
            parse(r#"Bearer realm="https://a"#),
            Err(ChallengeError::UnterminatedQuote { at: 13 })
        );
        assert!(matches!(
            parse(r#"Bearer realm "x""#),
            Err(ChallengeError::ExpectedEquals { .. })
        ));
        assert!(matches!(
            parse("Bearer service=s, realm="),
            Err(ChallengeError::ExpectedValue { .. })
        ));
        assert_eq!(
            parse_and_select(r#"Bearer service="s""#),
            Err(ChallengeError::BearerWithoutRealm)
        );
        let err = parse_and_select(r#"Digest realm="d", Negotiate"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no Bearer or Basic challenge among Digest, Negotiate"
        );
    }

    #[test]
    fn malformed_headers_never_panic() {
        let pieces = [
            "",
            " ",
            ",",
            "=",
            "\"",
            "\\",
            "Bearer",
            "Basic",
            "realm",
            "=\"",
            "\"x\"",
            "a=b",
            "a=\"b\\",
            "\u{e9}",
            "\t",
            ",,",
            "==",
            "scope=\"a,b\"",
            "\\\"",
            "é\"",
        ];
        let mut tried = 0;
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    for header in [format!("{a}{b}{c}"), format!("{a} {b}, {c}")] {
                        let _ = parse_and_select(&header);
                        tried += 1;
                    }
                }
            }
        }
        // Every prefix of a realistic header, too: a cut-off header must be an error or a
        // shorter challenge, never a panic.
        let full = r#"Basic realm="x", Bearer realm="https://auth.example.com/token",service="r.example.com",scope="repository:a/b:pull,push""#;
        for end in 0..=full.len() {
            let _ = parse_and_select(&full[..end]);
            tried += 1;
        }
        assert!(tried > 16_000);
    }
}
