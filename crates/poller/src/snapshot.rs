//! What a cycle reads from the store, read once at its start: the projects, the registries and
//! the poll states of the polled stages. A query per stage, done serially with that stage's
//! registry request, made the database the main cost of a cycle where nothing changed.
//!
//! A read that fails fails only the stages that need it, with the store's words, as reading
//! stage by stage did. Changes made while a cycle runs are seen by the next one.

use std::collections::HashMap;

use store::{PollState, Project, Registry, Stage, Store, StoreError};

/// The store's rows a cycle works from.
pub(crate) struct Snapshot {
    projects: Result<HashMap<i64, Project>, String>,
    registries: Result<HashMap<i64, Registry>, String>,
    /// By stage id; a stage before its first poll has none.
    poll_states: Result<HashMap<i64, PollState>, String>,
}

impl Snapshot {
    /// Reads what polling `stages` needs: one query per table, however many stages there are
    /// (the poll states of more than a few hundred are read in slices).
    pub(crate) fn read(store: &Store, stages: &[Stage]) -> Snapshot {
        let stage_ids: Vec<i64> = stages.iter().map(|stage| stage.id).collect();
        Snapshot {
            projects: by_id(store.projects(), |project| project.id),
            registries: by_id(store.registries(), |registry| registry.id),
            poll_states: store
                .poll_states_of(&stage_ids)
                .map_err(|error| error.to_string()),
        }
    }

    /// A stage's project.
    pub(crate) fn project(&self, id: i64) -> Result<&Project, String> {
        find(&self.projects, id, "project")
    }

    /// A project's registry.
    pub(crate) fn registry(&self, id: i64) -> Result<&Registry, String> {
        find(&self.registries, id, "registry")
    }

    /// A stage's poll state; `None` before its first poll.
    pub(crate) fn poll_state(&self, stage_id: i64) -> Result<Option<&PollState>, String> {
        match &self.poll_states {
            Ok(states) => Ok(states.get(&stage_id)),
            Err(error) => Err(error.clone()),
        }
    }
}

fn by_id<T>(
    rows: store::Result<Vec<T>>,
    id: impl Fn(&T) -> i64,
) -> Result<HashMap<i64, T>, String> {
    rows.map(|rows| rows.into_iter().map(|row| (id(&row), row)).collect())
        .map_err(|error| error.to_string())
}

/// The row, or the error the store gives for a missing one (`project 3 not found`).
fn find<'a, T>(
    rows: &'a Result<HashMap<i64, T>, String>,
    id: i64,
    what: &str,
) -> Result<&'a T, String> {
    let rows = rows.as_ref().map_err(Clone::clone)?;
    rows.get(&id).ok_or_else(|| {
        StoreError::NotFound {
            what: format!("{what} {id}"),
        }
        .to_string()
    })
}
