//! `model-mismatch`: every difference between the model's prediction and
//! what the kernel did, judged by the one comparator
//! ([`mtulab_core::compare::Comparator`]), with both values.

use mtulab_core::compare::{Comparator, Compared};
use mtulab_core::model::PathPrediction;
use mtulab_core::CheckId;

use crate::report::{PathReport, Violation};

/// How many model predictions were compared with the kernel.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub compared: usize,
    pub differ: usize,
    pub unknown: usize,
}

/// Every difference between the model's prediction and what the kernel
/// did is a `model-mismatch` with both values: a model bug or a kernel
/// behaviour to document, never hidden. What the model cannot know is
/// counted, not compared.
pub(super) fn compare(
    pred: &PathPrediction,
    seen: &PathReport,
    tally: &mut Tally,
    out: &mut Vec<Violation>,
) {
    let mut diffs = Vec::new();
    for c in Comparator::default().path(pred, seen) {
        match c {
            Compared::Unknown => tally.unknown += 1,
            Compared::Same => tally.compared += 1,
            Compared::Differ(d) => {
                tally.compared += 1;
                tally.differ += 1;
                diffs.push(d);
            }
        }
    }
    for d in diffs {
        out.push(Violation {
            check: CheckId::ModelMismatch,
            message: format!("{} -> {} {}: {d}", seen.from, seen.to, seen.family),
            fix: None,
            from: Some(seen.from.clone()),
            to: Some(seen.to.clone()),
            family: Some(seen.family),
            link: None,
            segment: None,
            tunnel: None,
        });
    }
}

#[cfg(test)]
mod tests;
