//! Names this tool gives to containers: readable, deterministic and unique per deploy.

/// Label keys every container we make carries; reconciliation finds our containers by them.
pub mod labels {
    /// The project's name.
    pub const PROJECT: &str = "docker-watcher.project";
    /// The stage's name.
    pub const STAGE: &str = "docker-watcher.stage";
    /// The instance row's id.
    pub const INSTANCE: &str = "docker-watcher.instance";
    /// The deploy row's id.
    pub const DEPLOY: &str = "docker-watcher.deploy";
}

/// Makes text safe for a DNS label or a container name: lowercase, anything outside `[a-z0-9-]`
/// becomes `-`, runs of `-` collapse, and no `-` at either end. Empty input gives `x`.
pub fn slug(text: &str) -> String {
    let mut res = String::with_capacity(text.len());
    for ch in text.chars().flat_map(char::to_lowercase) {
        let ch = if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            ch
        } else {
            '-'
        };
        if ch == '-' && (res.is_empty() || res.ends_with('-')) {
            continue;
        }
        res.push(ch);
    }
    while res.ends_with('-') {
        res.pop();
    }
    if res.is_empty() { "x".to_string() } else { res }
}

/// `dw-{project}-{stage}-{tag-slug}-{deploy-short-id}`: the short id keeps a redeploy of the
/// same tag (a moved `latest`, say) from colliding with the container still running it.
pub fn container_name(project: &str, stage: &str, tag: &str, deploy_short_id: &str) -> String {
    format!(
        "dw-{}-{}-{}-{}",
        slug(project),
        slug(stage),
        slug(tag),
        slug(deploy_short_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_keeps_dns_safe_characters_only() {
        assert_eq!(slug("1.2.3"), "1-2-3");
        assert_eq!(slug("V1.0-RC"), "v1-0-rc");
        assert_eq!(slug("feature/Login__page"), "feature-login-page");
        assert_eq!(slug("--latest--"), "latest");
        assert_eq!(slug("..."), "x");
    }

    #[test]
    fn container_names_differ_per_deploy_of_the_same_tag() {
        let first = container_name("shop", "dev", "latest", "0a1b2c3d");
        let second = container_name("shop", "dev", "latest", "9f8e7d6c");
        assert_eq!(first, "dw-shop-dev-latest-0a1b2c3d");
        assert_ne!(first, second);
    }
}
