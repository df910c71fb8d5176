//! A delivery's life: its states and the one function that moves between them. The
//! `deliveries.status` column holds [`DeliveryStatus::as_str`] (a `CHECK` constraint lists the
//! same names), and the statements that move a delivery follow [`next`].

use std::fmt;
use std::str::FromStr;

/// Where a delivery is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt's time.
    Pending,
    /// Leased by a worker making an attempt.
    InFlight,
    /// Delivered.
    Succeeded,
    /// No further attempt; its reason says why. Can be replayed or purged.
    DeadLettered,
    /// Its integration is disabled; resumes as pending when it is enabled.
    Paused,
    /// Its integration was deleted.
    Cancelled,
    /// A dead letter the tenant removed from the queue (its log stays).
    Purged,
    /// Waiting behind an earlier delivery with the same ordering key (an integration with
    /// `ordering: perKey`); promoted to pending once that one succeeds or is dead-lettered.
    Blocked,
}

/// Every status, in the order of the column's `CHECK` constraint.
pub const ALL: [DeliveryStatus; 8] = [
    DeliveryStatus::Pending,
    DeliveryStatus::InFlight,
    DeliveryStatus::Succeeded,
    DeliveryStatus::DeadLettered,
    DeliveryStatus::Paused,
    DeliveryStatus::Cancelled,
    DeliveryStatus::Purged,
    DeliveryStatus::Blocked,
];

impl DeliveryStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::InFlight => "in_flight",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::DeadLettered => "dead_lettered",
            DeliveryStatus::Paused => "paused",
            DeliveryStatus::Cancelled => "cancelled",
            DeliveryStatus::Purged => "purged",
            DeliveryStatus::Blocked => "blocked",
        }
    }

    /// Whether nothing can happen to it any more, except a replay of a dead letter.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeliveryStatus::Succeeded
                | DeliveryStatus::DeadLettered
                | DeliveryStatus::Cancelled
                | DeliveryStatus::Purged
        )
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of [`ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown delivery status `{0}`")]
pub struct UnknownStatus(pub String);

impl TryFrom<String> for DeliveryStatus {
    type Error = UnknownStatus;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

impl FromStr for DeliveryStatus {
    type Err = UnknownStatus;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ALL.into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| UnknownStatus(name.to_owned()))
    }
}

/// What the integration a delivery belongs to is like now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrationState {
    /// Enabled: deliveries run.
    Enabled,
    /// Disabled: waiting deliveries are parked.
    Disabled,
    /// Deleted: waiting deliveries are cancelled.
    Deleted,
}

/// Something that happens to a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A worker leases it (a claim, or the hand-over at publish).
    Claim,
    /// Its attempt was recorded and delivered it.
    Delivered,
    /// Its attempt was recorded and another one is due later.
    Retry,
    /// Its attempt was recorded and no further one will be made.
    DeadLetter,
    /// Its lease expired without a recorded attempt; `lost` such expiries in a row now,
    /// this one included, of the `max` allowed.
    LeaseExpired {
        /// Expiries in a row, this one included.
        lost: u32,
        /// The limit (`--max-lost-leases`).
        max: u32,
    },
    /// Its worker gives it back unstarted (shutdown, or a lease too short to finish in).
    Release,
    /// Its integration changed state (disabled, enabled or deleted).
    Integration(IntegrationState),
    /// A dead letter replayed.
    Replay,
    /// A dead letter purged.
    Purge,
    /// A blocked delivery becomes its key's head (the one before it finished).
    Promote,
}

/// A step that does not apply to a delivery in that state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a delivery that is {from} cannot take the step {step:?}")]
pub struct InvalidStep {
    /// Its state.
    pub from: DeliveryStatus,
    /// The step refused.
    pub step: Step,
}

/// Where `step` takes a delivery that is `from`, given its integration's state (a delivery
/// that would wait again goes to `paused` when its integration is disabled and `cancelled`
/// when it is deleted).
pub fn next(
    from: DeliveryStatus,
    step: Step,
    integration: IntegrationState,
) -> Result<DeliveryStatus, InvalidStep> {
    use DeliveryStatus as S;
    let waiting = match integration {
        IntegrationState::Enabled => S::Pending,
        IntegrationState::Disabled => S::Paused,
        IntegrationState::Deleted => S::Cancelled,
    };
    let to = match (from, step) {
        (S::Pending, Step::Claim) if integration == IntegrationState::Enabled => S::InFlight,
        (S::InFlight, Step::Delivered) => S::Succeeded,
        (S::InFlight, Step::DeadLetter) => S::DeadLettered,
        (S::InFlight, Step::Retry) => waiting,
        (S::InFlight, Step::LeaseExpired { lost, max }) if lost >= max.max(1) => S::DeadLettered,
        (S::InFlight, Step::LeaseExpired { .. } | Step::Release) => S::Pending,
        (S::Blocked, Step::Promote) => waiting,
        // A blocked delivery waits for its key whatever its integration does, unless deleted.
        (S::Blocked, Step::Integration(IntegrationState::Deleted)) => S::Cancelled,
        (S::Blocked, Step::Integration(_)) => S::Blocked,
        (S::Pending | S::Paused, Step::Integration(state)) => match state {
            IntegrationState::Enabled => S::Pending,
            IntegrationState::Disabled => S::Paused,
            IntegrationState::Deleted => S::Cancelled,
        },
        // An attempt in flight finishes and is recorded; then the step above applies.
        (S::InFlight, Step::Integration(_)) => S::InFlight,
        // A replayed keyed delivery of a `perKey` integration goes back to `blocked` and is
        // promoted at once when its key has no head (the store does both in one go).
        (S::DeadLettered, Step::Replay) => waiting,
        (S::DeadLettered, Step::Purge) => S::Purged,
        _ => return Err(InvalidStep { from, step }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn status() -> impl Strategy<Value = DeliveryStatus> {
        prop::sample::select(ALL.to_vec())
    }

    fn integration() -> impl Strategy<Value = IntegrationState> {
        prop::sample::select(vec![
            IntegrationState::Enabled,
            IntegrationState::Disabled,
            IntegrationState::Deleted,
        ])
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            Just(Step::Claim),
            Just(Step::Delivered),
            Just(Step::Retry),
            Just(Step::DeadLetter),
            (0u32..6, 0u32..6).prop_map(|(lost, max)| Step::LeaseExpired { lost, max }),
            Just(Step::Release),
            integration().prop_map(Step::Integration),
            Just(Step::Replay),
            Just(Step::Purge),
            Just(Step::Promote),
        ]
    }

    #[test]
    fn names_round_trip_and_match_the_check_constraint() {
        let names: Vec<&str> = ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "pending",
                "in_flight",
                "succeeded",
                "dead_lettered",
                "paused",
                "cancelled",
                "purged",
                "blocked"
            ]
        );
        for s in ALL {
            assert_eq!(s.as_str().parse::<DeliveryStatus>(), Ok(s));
        }
        assert!("done".parse::<DeliveryStatus>().is_err());
    }

    proptest! {
        #[test]
        fn only_a_dead_letter_leaves_a_final_state_and_only_by_replay_or_purge(
            from in status(), step in step(), integration in integration(),
        ) {
            if from.is_final() && let Ok(to) = next(from, step, integration) {
                prop_assert_eq!(from, DeliveryStatus::DeadLettered);
                prop_assert!(matches!(step, Step::Replay | Step::Purge));
                prop_assert_ne!(to, DeliveryStatus::InFlight);
            }
        }

        #[test]
        fn a_lease_expiry_dead_letters_exactly_at_the_limit(lost in 0u32..10, max in 1u32..10) {
            let to = next(DeliveryStatus::InFlight, Step::LeaseExpired { lost, max }, IntegrationState::Enabled);
            let expected = if lost >= max { DeliveryStatus::DeadLettered } else { DeliveryStatus::Pending };
            prop_assert_eq!(to, Ok(expected));
        }

        #[test]
        fn only_a_pending_delivery_of_an_enabled_integration_is_claimed(
            from in status(), integration in integration(),
        ) {
            let claimed = next(from, Step::Claim, integration).is_ok();
            prop_assert_eq!(claimed, from == DeliveryStatus::Pending && integration == IntegrationState::Enabled);
        }

        #[test]
        fn every_walk_ends_or_keeps_going_without_reaching_an_unknown_state(
            steps in prop::collection::vec((step(), integration()), 0..40),
        ) {
            let mut at = DeliveryStatus::Pending;
            for (step, integration) in steps {
                if let Ok(to) = next(at, step, integration) {
                    // A recorded outcome or an expiry always leaves in_flight.
                    if at == DeliveryStatus::InFlight
                        && matches!(step, Step::Delivered | Step::Retry | Step::DeadLetter | Step::LeaseExpired { .. } | Step::Release)
                    {
                        prop_assert_ne!(to, DeliveryStatus::InFlight);
                    }
                    at = to;
                }
                prop_assert!(ALL.contains(&at));
            }
        }
    }
}
