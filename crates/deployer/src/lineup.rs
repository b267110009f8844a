//! Which instances of a stage stay once a new one serves. A stage with `max_instances: 1` keeps
//! only the newest: a deploy replaces what ran before. A stage with more keeps one instance per
//! tag (a redeploy of a tag replaces that tag's instance), the newest first, up to its limit; the
//! oldest beyond it go, with their proxy hosts.

use store::Instance;

/// Splits a stage's live instances into those that stay and those that go.
pub(crate) fn split(max_instances: i32, mut live: Vec<Instance>) -> (Vec<Instance>, Vec<Instance>) {
    live.sort_by_key(|instance| std::cmp::Reverse(instance.deploy_id));
    let limit = usize::try_from(max_instances).unwrap_or(1).max(1);
    let mut keep: Vec<Instance> = Vec::new();
    let mut drop = Vec::new();
    for instance in live {
        let tag_taken = keep.iter().any(|kept| kept.tag == instance.tag);
        if keep.len() < limit && (limit == 1 || !tag_taken) {
            keep.push(instance);
        } else {
            drop.push(instance);
        }
    }
    (keep, drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::InstanceStatus;

    fn instance(deploy_id: i64, tag: &str) -> Instance {
        Instance {
            id: deploy_id * 10,
            project_id: 1,
            stage_id: 1,
            deploy_id,
            tag: tag.into(),
            digest: None,
            container_id: format!("c{deploy_id}"),
            container_name: format!("dw-{tag}-{deploy_id}"),
            address: None,
            status: InstanceStatus::Running,
            created_at: deploy_id,
            updated_at: deploy_id,
            domain: None,
        }
    }

    fn deploys(list: &[Instance]) -> Vec<i64> {
        list.iter().map(|instance| instance.deploy_id).collect()
    }

    #[test]
    fn one_instance_per_stage_keeps_the_newest_only() {
        let (keep, drop) = split(
            1,
            vec![instance(1, "v1"), instance(3, "v1"), instance(2, "v2")],
        );
        assert_eq!(deploys(&keep), [3]);
        assert_eq!(deploys(&drop), [2, 1]);
    }

    #[test]
    fn more_instances_keep_one_per_tag_newest_first_up_to_the_limit() {
        let live = vec![
            instance(1, "a"),
            instance(2, "b"),
            instance(3, "a"),
            instance(4, "c"),
            instance(5, "d"),
        ];
        let (keep, drop) = split(3, live);
        assert_eq!(deploys(&keep), [5, 4, 3], "d, c and the newest a");
        assert_eq!(
            deploys(&drop),
            [2, 1],
            "b is the oldest beyond the limit, a is replaced"
        );
    }

    #[test]
    fn a_nonsense_limit_counts_as_one() {
        let (keep, _) = split(0, vec![instance(1, "a"), instance(2, "b")]);
        assert_eq!(deploys(&keep), [2]);
    }
}
