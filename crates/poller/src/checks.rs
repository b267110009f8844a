//! Recording when stages that found nothing new were checked. Only their poll state's
//! `checked_at` changes, so the cycle writes it for all of them at its end, in one transaction,
//! instead of once per stage next to its registry request. Baselines and finds are not batched:
//! they are saved as soon as they happen (see `poll_stage`).

use store::Store;

use crate::poll_stage::StageOutcome;
use crate::poller::StageReport;

/// Sets the check time of every stage whose outcome is [`StageOutcome::NothingNew`]. When that
/// write fails, those stages' poll states are unchanged, so their outcome becomes the error.
pub(crate) fn record_checks(store: &Store, reports: &mut [StageReport]) {
    let unchanged: Vec<i64> = reports
        .iter()
        .filter(|report| report.outcome == StageOutcome::NothingNew)
        .map(|report| report.stage_id)
        .collect();
    if unchanged.is_empty() {
        return;
    }
    let Err(error) = store.touch_poll_states(&unchanged, store::now_ms()) else {
        return;
    };
    log::warn!(
        "poller: cannot record the check of {} unchanged stage(s): {error}",
        unchanged.len()
    );
    for report in reports
        .iter_mut()
        .filter(|report| report.outcome == StageOutcome::NothingNew)
    {
        report.outcome = StageOutcome::Error(error.to_string());
    }
}
