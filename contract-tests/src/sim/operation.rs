//! The operations the simulator serves, named as in fault rules, rate limits and idempotency scopes.

use std::fmt;
use std::str::FromStr;

/// One API operation of the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// `POST /accesstoken/get`
    AccessToken,
    /// `POST /epayment/v1/payments`
    Create,
    /// `GET /epayment/v1/payments/{reference}`
    Get,
    /// `GET /epayment/v1/payments/{reference}/events`
    Events,
    /// `POST /epayment/v1/payments/{reference}/capture`
    Capture,
    /// `POST /epayment/v1/payments/{reference}/refund`
    Refund,
    /// `POST /epayment/v1/payments/{reference}/cancel`
    Cancel,
    /// `POST /epayment/v1/test/payments/{reference}/approve`
    ForceApprove,
}

impl Operation {
    /// Every operation, in a fixed order.
    pub const ALL: &'static [Operation] = &[
        Operation::AccessToken,
        Operation::Create,
        Operation::Get,
        Operation::Events,
        Operation::Capture,
        Operation::Refund,
        Operation::Cancel,
        Operation::ForceApprove,
    ];

    /// The name used in fault rules and the `/_sim` endpoints.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::AccessToken => "access-token",
            Operation::Create => "create",
            Operation::Get => "get",
            Operation::Events => "events",
            Operation::Capture => "capture",
            Operation::Refund => "refund",
            Operation::Cancel => "cancel",
            Operation::ForceApprove => "force-approve",
        }
    }

    /// Whether the operation changes a payment (rule S13 budgets these at 5 per minute).
    pub fn is_modification(self) -> bool {
        matches!(
            self,
            Operation::Create | Operation::Capture | Operation::Refund | Operation::Cancel
        )
    }

    /// Whether the operation only reads a payment (rule S13 budgets these at 120 per minute).
    pub fn is_read(self) -> bool {
        matches!(self, Operation::Get | Operation::Events)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Operation::ALL
            .iter()
            .copied()
            .find(|op| op.as_str() == value)
            .ok_or_else(|| {
                let names: Vec<&str> = Operation::ALL.iter().map(|op| op.as_str()).collect();
                format!("unknown operation `{value}`; expected one of {}", names.join(", "))
            })
    }
}
