//! The memory budget: bytes of submitted text held in memory (waiting for a worker or being
//! analysed), so what clients send cannot grow the process without bound.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::problem::{ApiError, Code};

/// Bytes are counted in units of this size (a semaphore takes at most `u32::MAX` at once).
const UNIT_BYTES: usize = 1024;

/// A budget of text bytes shared by the sync endpoint and the standalone queue.
#[derive(Clone, Debug)]
pub struct MemoryBudget {
    units: Arc<Semaphore>,
    total_units: usize,
}

/// Bytes taken from a [`MemoryBudget`], given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    _units: OwnedSemaphorePermit,
}

impl MemoryBudget {
    /// A budget of `bytes` (at least one unit).
    pub fn new(bytes: usize) -> Self {
        let total_units = bytes.div_ceil(UNIT_BYTES).clamp(1, Semaphore::MAX_PERMITS);
        Self {
            units: Arc::new(Semaphore::new(total_units)),
            total_units,
        }
    }

    /// Takes `bytes` from the budget, or answers `503` when they do not fit now.
    pub fn try_reserve(&self, bytes: usize) -> Result<Reservation, ApiError> {
        let units = u32::try_from(bytes.div_ceil(UNIT_BYTES).max(1)).unwrap_or(u32::MAX);
        self.units
            .clone()
            .try_acquire_many_owned(units)
            .map(|units| Reservation { _units: units })
            .map_err(|_| {
                ApiError::new(
                    Code::Unavailable,
                    "the server is analysing as much text as its memory budget allows; retry in \
                     a moment",
                )
            })
    }

    /// Bytes reserved now.
    pub fn used_bytes(&self) -> usize {
        (self.total_units - self.units.available_permits()) * UNIT_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_that_does_not_fit_is_refused_until_a_reservation_ends() {
        let budget = MemoryBudget::new(10 * 1024);
        let first = budget.try_reserve(6 * 1024).unwrap();
        assert_eq!(budget.used_bytes(), 6 * 1024);
        let refused = budget.try_reserve(5 * 1024).unwrap_err();
        assert_eq!(refused.code, Code::Unavailable);
        drop(first);
        assert!(budget.try_reserve(5 * 1024).is_ok());
        assert_eq!(
            budget.used_bytes(),
            0,
            "the reservation ended with its value"
        );
    }
}
