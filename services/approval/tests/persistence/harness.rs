//! Test set-up: a migrated database, pools as the app role and the owner, request contexts
//! with roles, an in-memory approver directory and request fixtures.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use approval::app::error::AppResult;
use approval::app::open_request::{self, OpenInput};
use approval::app::ports::{ApproverDirectory, Ports, StoreError};
use approval::domain::{
    ApprovalLevel, ApprovalRequest, Approver, Assignment, GroupId, LevelPlan, PolicySnapshot,
    PriceHash, QuoteId, QuoteRef, QuoteRevision, RiskDirection, RuleEvaluation,
};
use approval::infra::PgApprovalRepository;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common_kernel::context::{ActorType, RequestContext};
use common_kernel::db::{self, TenantTx};
use common_kernel::settings::{DatabaseSettings, Secret, app_database_url};
use domain_kernel::access::{Authority, Role};
use domain_kernel::{ActorId, TenantId};
use rust_decimal::Decimal;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use test_support::TestDatabase;

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/approval");
const SCHEMA: &str = "approval_schema";
/// The tenant of every fixture.
pub const TENANT: &str = "acme";
/// Who submits every fixture quote.
pub const SUBMITTER: &str = "sally";

async fn connect(url: String) -> PgPool {
    let settings = DatabaseSettings {
        url: Secret::new(url),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(10),
    };
    db::connect(&settings, SCHEMA).await.expect("pool")
}

/// A migrated database with a pool as `approval_app` (commands) and one as the owner (checks).
pub struct Db {
    /// Kept alive for the test.
    pub _database: TestDatabase,
    /// The request role, under row-level security.
    pub app: PgPool,
    /// The owner, for assertions across tables.
    pub owner: PgPool,
    /// The ports, over PostgreSQL and the fixture directory.
    pub ports: Ports,
}

/// A fresh database for one test.
pub async fn db() -> Db {
    let platform = Path::new(messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/approval");
    let database =
        TestDatabase::from_template_of("approval", &[platform, &migrations], |url| async move {
            let pool = connect(url).await;
            messaging::schema::migrate(&pool, SCHEMA, &MIGRATOR)
                .await
                .expect("migrate template");
            pool.close().await;
        })
        .await;
    let app = connect(app_database_url(&database.url, "approval_app")).await;
    let owner = connect(database.url.clone()).await;
    let ports = Ports {
        requests: Arc::new(PgApprovalRepository),
        directory: Arc::new(Directory::fixture()),
    };
    Db {
        _database: database,
        app,
        owner,
        ports,
    }
}

impl Db {
    /// A transaction scoped to the fixture tenant.
    pub async fn tx(&self) -> TenantTx {
        db::begin_for_tenant(&self.app, &tenant())
            .await
            .expect("begin")
    }

    /// Opens a request for `quote` at `revision` and hash `hash`, requiring `levels`; commits.
    pub async fn open(
        &self,
        quote: QuoteId,
        revision: i32,
        hash: char,
        levels: &[ApprovalLevel],
    ) -> ApprovalRequest {
        let mut tx = self.tx().await;
        let request = open_in(&mut tx, &self.ports, quote, revision, hash, levels)
            .await
            .expect("open");
        tx.commit().await.expect("commit");
        request
    }

    /// Rows of `table` (owner's view, every tenant).
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.owner)
            .await
            .expect("count")
    }
}

/// Opens a request in the caller's transaction, as the submitter.
pub async fn open_in(
    conn: &mut sqlx::PgConnection,
    ports: &Ports,
    quote: QuoteId,
    revision: i32,
    hash: char,
    levels: &[ApprovalLevel],
) -> AppResult<ApprovalRequest> {
    let input = OpenInput {
        quote: quote_ref(quote, revision, hash),
        snapshot: snapshot(levels),
        chain: levels.iter().map(|l| plan(*l, later(60))).collect(),
        skips: Vec::new(),
        expires_at: later(600),
    };
    open_request::execute(conn, ports, &ctx(SUBMITTER, &[Role::SalesAgent]), input).await
}

/// The fixture tenant.
pub fn tenant() -> TenantId {
    TenantId::parse(TENANT).expect("tenant")
}

/// A context for `actor` with `roles`, acting through `cpq-service`.
pub fn ctx(actor: &str, roles: &[Role]) -> RequestContext {
    RequestContext::system(
        tenant(),
        ActorId::parse(actor).expect("actor"),
        ActorType::HumanAgent,
        "API",
        Authority {
            roles: roles.to_vec(),
            discount_authority: Decimal::ZERO,
            client: "approval-tests".into(),
            via: Some("cpq-service".into()),
        },
    )
}

/// `minutes` from now, at the database's precision.
pub fn later(minutes: i64) -> DateTime<Utc> {
    approval::app::db_now() + chrono::Duration::minutes(minutes)
}

/// A hash of 64 times `c`.
pub fn hash(c: char) -> PriceHash {
    PriceHash::parse(&c.to_string().repeat(64)).expect("hash")
}

/// A quote reference.
pub fn quote_ref(quote: QuoteId, revision: i32, c: char) -> QuoteRef {
    QuoteRef {
        quote_id: quote,
        revision: QuoteRevision::new(revision).expect("revision"),
        price_hash: hash(c),
    }
}

/// A group id.
pub fn group(name: &str) -> GroupId {
    GroupId::parse(name).expect("group")
}

/// The level's group: `managers`, `directors` or `finance`.
pub fn group_of(level: ApprovalLevel) -> GroupId {
    group(match level {
        ApprovalLevel::Manager => "managers",
        ApprovalLevel::Director => "directors",
        ApprovalLevel::Finance => "finance",
    })
}

/// A plan: the level's group, escalating to `<group>-backup`.
pub fn plan(level: ApprovalLevel, due: DateTime<Utc>) -> LevelPlan {
    let own = group_of(level);
    LevelPlan {
        level,
        assignment: Assignment::Single { group: own.clone() },
        due,
        escalation_groups: vec![group(&format!("{own}-backup"))],
    }
}

/// A snapshot whose rules require `levels`.
pub fn snapshot(levels: &[ApprovalLevel]) -> PolicySnapshot {
    PolicySnapshot {
        policy_id: "quote-approval".into(),
        policy_version: "2026-12-01".into(),
        policy_sha256: "e".repeat(64),
        rules: levels
            .iter()
            .map(|level| RuleEvaluation {
                rule_id: format!("RULE_{}", level.as_str()),
                input: "item:a/discountPercent".into(),
                tested_value: Decimal::new(155, 1),
                threshold: Decimal::from(10),
                risk: RiskDirection::HigherIsRiskier,
                required_level: *level,
            })
            .collect(),
        required_levels: levels.to_vec(),
    }
}

/// The approver directory of the fixtures: `mia` manages, `dan` directs, `sally` submits but
/// is in the managers group too (so only separation of duties stops her).
#[derive(Debug)]
pub struct Directory {
    groups: BTreeMap<String, Vec<GroupId>>,
}

impl Directory {
    fn fixture() -> Self {
        let mut groups = BTreeMap::new();
        groups.insert("mia".to_owned(), vec![group("managers")]);
        groups.insert("max".to_owned(), vec![group("managers")]);
        groups.insert("dan".to_owned(), vec![group("directors")]);
        groups.insert(SUBMITTER.to_owned(), vec![group("managers")]);
        Self { groups }
    }
}

#[async_trait]
impl ApproverDirectory for Directory {
    async fn groups_of(
        &self,
        _tenant: &TenantId,
        actor: &ActorId,
    ) -> Result<Vec<GroupId>, StoreError> {
        Ok(self.groups.get(actor.as_str()).cloned().unwrap_or_default())
    }

    async fn approver(
        &self,
        _tenant: &TenantId,
        principal: &ActorId,
    ) -> Result<Option<Approver>, StoreError> {
        Ok(self.groups.get(principal.as_str()).map(|groups| Approver {
            id: principal.clone(),
            levels: vec![ApprovalLevel::Manager],
            groups: groups.clone(),
        }))
    }

    async fn roles_of(&self, _tenant: &TenantId, actor: &ActorId) -> Result<Vec<Role>, StoreError> {
        Ok(if self.groups.contains_key(actor.as_str()) {
            vec![Role::ApproverManager]
        } else {
            Vec::new()
        })
    }
}
