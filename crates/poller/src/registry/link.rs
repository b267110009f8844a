//! `Link: </v2/…/tags/list?n=100&last=x>; rel="next"` (RFC 8288), the tag list's pagination.

/// The target of the `rel="next"` link among one or more `Link` header values.
pub(crate) fn next_link(header: &str) -> Option<&str> {
    // Each link is `<target>` then `;`-separated parameters up to the next `<`.
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params_end = after[close..].find('<').map_or(after.len(), |i| close + i);
        let params = &after[close + 1..params_end];
        if is_next(params) {
            return Some(target.trim());
        }
        rest = &after[close + 1..];
    }
    None
}

/// Whether `; rel="next"` (or `rel=next`, or `rel="next last"`) is among the parameters.
fn is_next(params: &str) -> bool {
    params.split([';', ',']).any(|param| {
        let Some((name, value)) = param.split_once('=') else {
            return false;
        };
        name.trim().eq_ignore_ascii_case("rel")
            && value
                .trim()
                .trim_matches('"')
                .split_ascii_whitespace()
                .any(|rel| rel.eq_ignore_ascii_case("next"))
    })
}

/// Resolves a link target against the registry's origin and the URL of the page it came on.
/// The query is kept exactly as given: registries put opaque cursors there.
///
/// An absolute link to another origin keeps only its path and query: registries behind a
/// proxy that terminates TLS advertise their internal address, and following it would send
/// our credentials to a host the user never named.
pub(crate) fn resolve(origin: &str, current: &str, target: &str) -> String {
    let lower = target.to_ascii_lowercase();
    let absolute = lower.starts_with("http://") || lower.starts_with("https://");
    if absolute || target.starts_with("//") {
        let after_scheme = target.find("//").map_or(target, |i| &target[i + 2..]);
        let path_start = after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
        let target_origin = &target[..target.len() - after_scheme.len() + path_start];
        let path = &after_scheme[path_start..];
        if absolute && target_origin.eq_ignore_ascii_case(origin) {
            return target.to_owned();
        }
        return format!("{origin}{}", ensure_slash(path));
    }
    if target.starts_with('/') {
        return format!("{origin}{target}");
    }
    let current_path = current.split(['?', '#']).next().unwrap_or(current);
    if target.starts_with('?') {
        return format!("{current_path}{target}");
    }
    // A relative path replaces the last segment of the current one.
    let directory = current_path
        .rfind('/')
        .map_or(current_path, |i| &current_path[..=i]);
    format!("{directory}{target}")
}

fn ensure_slash(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "http://127.0.0.1:5000";
    const PAGE: &str = "http://127.0.0.1:5000/v2/acme/app/tags/list?n=1";

    #[test]
    fn the_next_link_is_found() {
        assert_eq!(
            next_link(r#"</v2/acme/app/tags/list?last=v1&n=1>; rel="next""#),
            Some("/v2/acme/app/tags/list?last=v1&n=1")
        );
        assert_eq!(
            next_link(r#"<https://r/v2/a/tags/list?n=2&last=b>; rel=next"#),
            Some("https://r/v2/a/tags/list?n=2&last=b")
        );
        assert_eq!(
            next_link(r#"</first>; rel="first", </next?a=1,2>; rel="prefetch next""#),
            Some("/next?a=1,2")
        );
        assert_eq!(next_link(r#"</prev>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link("<unclosed; rel=next"), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn root_relative_links_resolve_against_the_origin_with_the_query_untouched() {
        assert_eq!(
            resolve(ORIGIN, PAGE, "/v2/acme/app/tags/list?last=v%2B1&n=1"),
            "http://127.0.0.1:5000/v2/acme/app/tags/list?last=v%2B1&n=1"
        );
    }

    #[test]
    fn absolute_links_on_the_same_origin_are_kept() {
        let same = "http://127.0.0.1:5000/v2/acme/app/tags/list?n=1&last=b";
        assert_eq!(resolve(ORIGIN, PAGE, same), same);
    }

    #[test]
    fn absolute_links_elsewhere_keep_only_path_and_query() {
        assert_eq!(
            resolve(
                "https://registry.example.com",
                "https://registry.example.com/v2/a/tags/list",
                "http://internal:5000/v2/a/tags/list?n=1&last=b",
            ),
            "https://registry.example.com/v2/a/tags/list?n=1&last=b"
        );
        assert_eq!(
            resolve(ORIGIN, PAGE, "//other/v2/a/tags/list?n=1"),
            "http://127.0.0.1:5000/v2/a/tags/list?n=1"
        );
        assert_eq!(
            resolve(ORIGIN, PAGE, "https://other?x=1"),
            "http://127.0.0.1:5000/?x=1"
        );
    }

    #[test]
    fn query_only_and_path_relative_links() {
        assert_eq!(
            resolve(ORIGIN, PAGE, "?n=1&last=v2"),
            "http://127.0.0.1:5000/v2/acme/app/tags/list?n=1&last=v2"
        );
        assert_eq!(
            resolve(ORIGIN, PAGE, "list?n=1&last=v2"),
            "http://127.0.0.1:5000/v2/acme/app/tags/list?n=1&last=v2"
        );
    }
}
