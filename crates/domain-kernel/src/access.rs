//! Who may do what: the platform's roles, the actions that need a permission, and the one table
//! between them (ADR 0030). Every service reads this table; the application layer asks
//! [`Authority::may`] before any effect, so a permission is decided in one place, not per
//! handler.

use std::fmt;

use rust_decimal::Decimal;

/// A realm role, as tokens carry it in `realm_access.roles`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Sells: quotes, overrides (which then need approval), orders from quotes.
    SalesAgent,
    /// Approves discounts at manager level.
    ApproverManager,
    /// Approves discounts at director level (and manager level).
    ApproverDirector,
    /// Approves at finance level.
    ApproverFinance,
    /// Repairs orders and fallout, operates the workflow engine.
    Operator,
    /// Leads operations: the privileged repairs (settle a task as applied after verifying it
    /// downstream, correct a product instance's status), on top of the operator's.
    OperationsLead,
    /// Reads audit evidence, changes nothing.
    Auditor,
    /// A partner system: quotes and orders through the API.
    Partner,
    /// Maintains the product catalog and price books.
    CatalogAdmin,
    /// Another platform service (acts for itself or on behalf of a user).
    Service,
    /// A Zeebe job worker calling application commands.
    WorkflowWorker,
}

impl Role {
    /// Every role, for tables and tests.
    pub const ALL: [Self; 11] = [
        Self::SalesAgent,
        Self::ApproverManager,
        Self::ApproverDirector,
        Self::ApproverFinance,
        Self::Operator,
        Self::OperationsLead,
        Self::Auditor,
        Self::Partner,
        Self::CatalogAdmin,
        Self::Service,
        Self::WorkflowWorker,
    ];

    /// The name tokens use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SalesAgent => "sales-agent",
            Self::ApproverManager => "approver-manager",
            Self::ApproverDirector => "approver-director",
            Self::ApproverFinance => "approver-finance",
            Self::Operator => "operator",
            Self::OperationsLead => "ops-lead",
            Self::Auditor => "auditor",
            Self::Partner => "partner",
            Self::CatalogAdmin => "catalog-admin",
            Self::Service => "service",
            Self::WorkflowWorker => "workflow-worker",
        }
    }

    /// Reads a token's role name; roles the platform does not know are ignored by the caller.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The approval levels a discount or override may need. Serialized by its wire name, so
/// policy snapshots and approval chains that name levels are plain serde structs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalLevel {
    /// A sales manager.
    Manager,
    /// A sales director.
    Director,
    /// Finance.
    Finance,
}

impl ApprovalLevel {
    /// Every level, lowest first, for tables and tests.
    pub const ALL: [Self; 3] = [Self::Manager, Self::Director, Self::Finance];

    /// Reads the wire name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == value)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manager => "MANAGER",
            Self::Director => "DIRECTOR",
            Self::Finance => "FINANCE",
        }
    }
}

/// Everything a caller may ask for that needs a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read offerings, specifications and price books.
    ViewCatalog,
    /// Create, change, publish, retire or archive catalog content.
    ManageCatalog,
    /// Read quotes and their price traces.
    ViewQuote,
    /// Create a quote or change its items, price it, revise or cancel it.
    EditQuote,
    /// Override a computed price by hand (approval follows).
    OverridePrice,
    /// Submit a quote to the approval policy.
    SubmitQuote,
    /// Approve or reject a discount at a level.
    ApproveDiscount(ApprovalLevel),
    /// Record the customer's acceptance.
    AcceptQuote,
    /// Convert an accepted quote into an order.
    ConvertQuote,
    /// Read orders.
    ViewOrder,
    /// Create an order directly.
    CreateOrder,
    /// Cancel an order.
    CancelOrder,
    /// Amend an order in flight.
    AmendOrder,
    /// Retry a failed fulfilment task.
    RetryTask,
    /// Repair fallout (privileged repair commands included).
    RepairFallout,
    /// Settle a failed task as applied after verifying the effect downstream (force-complete);
    /// privileged.
    ForceCompleteTask,
    /// Correct a product instance's status, attach a missing reference or release a stuck
    /// operation guard; privileged.
    RepairInstalledBase,
    /// Read audit evidence.
    ViewAudit,
    /// Read the operations views.
    ViewOperations,
    /// Operate the workflow engine (incidents, process instances).
    OperateWorkflow,
    /// Read the workflow engine's process instances and incidents (the ops projections read
    /// incidents as the ops service).
    ViewWorkflow,
    /// Rebuild the operations projections from the event log; privileged (it replays every
    /// tenant's events).
    RebuildProjections,
    /// Work on user tasks in the workflow engine (approvers; a service completing the task of a
    /// decision it recorded).
    WorkUserTasks,
    /// Run one step a process asks for (a job worker's command: open a level, remind,
    /// escalate, expire); operators may run one by hand.
    RunWorkflowStep,
    /// Maintain the approver directory (who holds which approver roles and groups).
    ManageApprovers,
}

impl Action {
    /// The name a refusal names.
    pub fn name(self) -> String {
        match self {
            Self::ApproveDiscount(level) => format!("ApproveDiscount({})", level.as_str()),
            other => format!("{other:?}"),
        }
    }
}

/// The roles that may take `action`: the one permission table of the platform.
pub fn roles_for(action: Action) -> &'static [Role] {
    use Role as R;
    match action {
        Action::ViewCatalog => &R::ALL,
        Action::ManageCatalog => &[R::CatalogAdmin],
        Action::ViewQuote => &[
            R::SalesAgent,
            R::ApproverManager,
            R::ApproverDirector,
            R::ApproverFinance,
            R::Partner,
            R::Operator,
            R::OperationsLead,
            R::Auditor,
            R::Service,
            R::WorkflowWorker,
        ],
        Action::EditQuote | Action::SubmitQuote | Action::AcceptQuote | Action::ConvertQuote => {
            &[R::SalesAgent, R::Partner]
        }
        Action::OverridePrice => &[R::SalesAgent],
        Action::ApproveDiscount(ApprovalLevel::Manager) => {
            &[R::ApproverManager, R::ApproverDirector]
        }
        Action::ApproveDiscount(ApprovalLevel::Director) => &[R::ApproverDirector],
        Action::ApproveDiscount(ApprovalLevel::Finance) => &[R::ApproverFinance],
        Action::ViewOrder => &[
            R::SalesAgent,
            R::Partner,
            R::Operator,
            R::OperationsLead,
            R::Auditor,
            R::Service,
            R::WorkflowWorker,
        ],
        Action::CreateOrder => &[
            R::SalesAgent,
            R::Partner,
            R::Operator,
            R::OperationsLead,
            R::Service,
        ],
        Action::CancelOrder | Action::AmendOrder => {
            &[R::SalesAgent, R::Operator, R::OperationsLead]
        }
        Action::RetryTask | Action::RepairFallout | Action::OperateWorkflow => {
            &[R::Operator, R::OperationsLead]
        }
        Action::ForceCompleteTask | Action::RepairInstalledBase | Action::RebuildProjections => {
            &[R::OperationsLead]
        }
        Action::RunWorkflowStep => &[R::WorkflowWorker, R::Operator, R::OperationsLead],
        Action::ViewAudit => &[R::Auditor, R::Operator, R::OperationsLead],
        Action::ViewOperations => &[R::Operator, R::OperationsLead, R::Auditor],
        Action::ViewWorkflow => &[R::Operator, R::OperationsLead, R::Auditor, R::Service],
        Action::WorkUserTasks => &[
            R::ApproverManager,
            R::ApproverDirector,
            R::ApproverFinance,
            R::Operator,
            R::OperationsLead,
            R::Service,
        ],
        Action::ManageApprovers => &[R::Operator, R::OperationsLead],
    }
}

/// What the issuer vouched for about a caller beyond its tenant and identity: its roles, its
/// discount authority and the client the token was issued to. Kept with the request context, so
/// the application layer asks [`Authority::authorize`] before any effect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Authority {
    /// Roles from the token.
    pub roles: Vec<Role>,
    /// The largest discount, in percent, the caller may grant without approval.
    pub discount_authority: Decimal,
    /// The client the token was issued to.
    pub client: String,
    /// The service that made the call on the caller's behalf, if any.
    pub via: Option<String>,
}

impl Authority {
    /// Whether the caller holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the permission table lets the caller take `action`.
    pub fn may(&self, action: Action) -> bool {
        roles_for(action).iter().any(|role| self.has(*role))
    }

    /// `Ok` when the caller may take `action`, else the refusal naming it.
    pub fn authorize(&self, action: Action) -> Result<(), Forbidden> {
        if self.may(action) {
            Ok(())
        } else {
            Err(Forbidden { action })
        }
    }

    /// The approval levels the caller's roles carry.
    pub fn approval_levels(&self) -> Vec<ApprovalLevel> {
        [
            ApprovalLevel::Manager,
            ApprovalLevel::Director,
            ApprovalLevel::Finance,
        ]
        .into_iter()
        .filter(|level| self.may(Action::ApproveDiscount(*level)))
        .collect()
    }
}

/// The permission table refused an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the caller may not {}", .action.name())]
pub struct Forbidden {
    /// The refused action.
    pub action: Action,
}

/// Stable code of a refused action.
pub const FORBIDDEN_ACTION: &str = "FORBIDDEN_ACTION";

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[Role]) -> Authority {
        Authority {
            roles: roles.to_vec(),
            discount_authority: Decimal::from(10),
            client: "cpq-portal".into(),
            via: None,
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn the_table_decides() {
        let sales = principal(&[Role::SalesAgent]);
        assert!(sales.may(Action::EditQuote));
        assert!(sales.may(Action::ViewCatalog));
        assert!(!sales.may(Action::ManageCatalog));
        assert!(!sales.may(Action::ApproveDiscount(ApprovalLevel::Manager)));
        assert_eq!(
            sales.authorize(Action::RepairFallout),
            Err(Forbidden {
                action: Action::RepairFallout
            })
        );
        let director = principal(&[Role::SalesAgent, Role::ApproverDirector]);
        assert_eq!(
            director.approval_levels(),
            [ApprovalLevel::Manager, ApprovalLevel::Director]
        );
        let service = principal(&[Role::Service]);
        assert!(
            service.may(Action::WorkUserTasks),
            "a service completes the engine task of a decision it recorded"
        );
        assert!(!service.may(Action::ApproveDiscount(ApprovalLevel::Manager)));
        assert!(!service.may(Action::ManageApprovers));
        let granted: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| principal(&[*role]).may(Action::ManageApprovers))
            .collect();
        assert_eq!(
            granted,
            [Role::Operator, Role::OperationsLead],
            "only operators (and their leads) maintain approvers"
        );
        for privileged in [Action::ForceCompleteTask, Action::RepairInstalledBase] {
            let granted: Vec<Role> = Role::ALL
                .into_iter()
                .filter(|role| principal(&[*role]).may(privileged))
                .collect();
            assert_eq!(
                granted,
                [Role::OperationsLead],
                "only an operations lead takes {}",
                privileged.name()
            );
        }
        let operator = principal(&[Role::Operator]);
        let lead = principal(&[Role::OperationsLead]);
        for action in [
            Action::ViewCatalog,
            Action::ManageCatalog,
            Action::ViewQuote,
            Action::EditQuote,
            Action::OverridePrice,
            Action::SubmitQuote,
            Action::ApproveDiscount(ApprovalLevel::Manager),
            Action::ApproveDiscount(ApprovalLevel::Director),
            Action::ApproveDiscount(ApprovalLevel::Finance),
            Action::AcceptQuote,
            Action::ConvertQuote,
            Action::ViewOrder,
            Action::CreateOrder,
            Action::CancelOrder,
            Action::AmendOrder,
            Action::RetryTask,
            Action::RepairFallout,
            Action::ForceCompleteTask,
            Action::RepairInstalledBase,
            Action::ViewAudit,
            Action::ViewOperations,
            Action::OperateWorkflow,
            Action::ViewWorkflow,
            Action::RebuildProjections,
            Action::WorkUserTasks,
            Action::RunWorkflowStep,
            Action::ManageApprovers,
        ] {
            assert!(
                !operator.may(action) || lead.may(action),
                "an operations lead may {} like an operator",
                action.name()
            );
        }
        let nobody = principal(&[]);
        assert!(!nobody.may(Action::ViewCatalog), "no role, no permission");
        assert_eq!(
            Forbidden {
                action: Action::ApproveDiscount(ApprovalLevel::Finance)
            }
            .to_string(),
            "the caller may not ApproveDiscount(FINANCE)"
        );
    }
}
