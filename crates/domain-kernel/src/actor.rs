//! Who acts: the kinds of principal the platform serves and the principal of one command.
//! Pure data, so domain policies (an approval limit by actor type) can depend on it.

use serde::{Deserialize, Serialize};

use crate::ids::ActorId;

/// The kinds of principal the platform serves (architecture §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActorType {
    /// A sales or service agent.
    HumanAgent,
    /// A customer using the self-service portal.
    CustomerPortalUser,
    /// A partner system calling the API.
    PartnerApiClient,
    /// Another platform service.
    InternalService,
    /// A scheduled or bulk job.
    BatchProcess,
    /// A Zeebe job worker.
    WorkflowWorker,
    /// An operator repairing or administering the platform.
    AdminOperator,
}

impl ActorType {
    /// Every actor type, for validation messages and tests.
    pub const ALL: [Self; 7] = [
        Self::HumanAgent,
        Self::CustomerPortalUser,
        Self::PartnerApiClient,
        Self::InternalService,
        Self::BatchProcess,
        Self::WorkflowWorker,
        Self::AdminOperator,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HumanAgent => "HUMAN_AGENT",
            Self::CustomerPortalUser => "CUSTOMER_PORTAL_USER",
            Self::PartnerApiClient => "PARTNER_API_CLIENT",
            Self::InternalService => "INTERNAL_SERVICE",
            Self::BatchProcess => "BATCH_PROCESS",
            Self::WorkflowWorker => "WORKFLOW_WORKER",
            Self::AdminOperator => "ADMIN_OPERATOR",
        }
    }

    /// Parses the wire name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

/// The principal performing a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// Who.
    pub actor_id: ActorId,
    /// What kind of principal.
    pub actor_type: ActorType,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_type_names_round_trip() {
        for kind in ActorType::ALL {
            assert_eq!(ActorType::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::Value::from(kind.as_str()))
            );
        }
        assert_eq!(ActorType::parse("human_agent"), None);
    }
}
