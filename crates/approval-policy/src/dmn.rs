//! The embedded DMN files: which versions exist, their evidence pin (id, version, SHA-256),
//! and the dsntk model evaluator built once per file.
//!
//! A changed table is a new file with a new version (`quote-approval-policy-v<N>.dmn`); old
//! files stay, embedded, so an evaluation recorded months ago can be re-run on the very table
//! that produced it ([`policy`]).

use std::fmt;
use std::sync::{Arc, OnceLock};

use dsntk_model_evaluator::ModelEvaluator;
use sha2::{Digest, Sha256};

use crate::error::PolicyError;
use crate::evaluation::PolicyRef;

/// One DMN file embedded in the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyFile {
    /// The file name under `workflow/dmn/`.
    pub file_name: &'static str,
    /// Its exact content (what the SHA-256 is taken of).
    pub content: &'static str,
}

/// Every released version of the quote approval policy, oldest first; the last is current.
/// (Version 1 was the in-process `cpq-approval-policy/v1`, which had no DMN file.)
pub const POLICY_FILES: &[PolicyFile] = &[PolicyFile {
    file_name: "quote-approval-policy-v2.dmn",
    content: include_str!("../../../workflow/dmn/quote-approval-policy-v2.dmn"),
}];

/// Namespace of Camunda 8's extension elements, whose `versionTag` declares the version.
const ZEEBE_NS: &str = "http://camunda.org/schema/zeebe/1.0";

/// A loaded policy version: its evidence pin and the engine ready to evaluate its decision.
pub struct DmnPolicy {
    reference: PolicyRef,
    namespace: String,
    model_name: String,
    decision_name: String,
    evaluator: Arc<ModelEvaluator>,
}

impl fmt::Debug for DmnPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DmnPolicy")
            .field("reference", &self.reference)
            .field("decision_name", &self.decision_name)
            .finish_non_exhaustive()
    }
}

impl DmnPolicy {
    /// Reads the pin from the XML, then has dsntk parse and build the model.
    fn load(file: &PolicyFile) -> Result<Self, PolicyError> {
        let header = Header::read(file)?;
        let definitions = dsntk_model::parse(file.content).map_err(|e| PolicyError::Engine {
            file: file.file_name,
            reason: e.to_string(),
        })?;
        let evaluator = ModelEvaluator::new(&[definitions]).map_err(|e| PolicyError::Engine {
            file: file.file_name,
            reason: e.to_string(),
        })?;
        Ok(Self {
            reference: PolicyRef {
                policy_id: header.policy_id,
                version: header.version,
                sha256: hex::encode(Sha256::digest(file.content.as_bytes())),
                file: file.file_name.to_owned(),
            },
            namespace: header.namespace,
            model_name: header.model_name,
            decision_name: header.decision_name,
            evaluator,
        })
    }

    /// The evidence pin every evaluation by this version carries.
    pub fn reference(&self) -> &PolicyRef {
        &self.reference
    }

    /// The name of the decision evaluated.
    pub fn decision_name(&self) -> &str {
        &self.decision_name
    }

    /// Evaluates the decision on a prepared input context (see `crate::evaluation`).
    pub(crate) fn evaluate_raw(
        &self,
        input: &dsntk_feel::context::FeelContext,
    ) -> dsntk_feel::values::Value {
        self.evaluator.evaluate_invocable(
            &self.namespace,
            &self.model_name,
            &self.decision_name,
            input,
        )
    }
}

/// What the policy needs from the XML beyond dsntk's model: the declared id and version (DMN
/// itself has no version attribute; Camunda's `zeebe:versionTag` on the decision is used, so
/// Camunda Modeler shows and edits it) and the names to invoke the decision by.
struct Header {
    policy_id: String,
    version: String,
    namespace: String,
    model_name: String,
    decision_name: String,
}

impl Header {
    fn read(file: &PolicyFile) -> Result<Self, PolicyError> {
        let malformed = |reason: &str| PolicyError::Malformed {
            file: file.file_name,
            reason: reason.to_owned(),
        };
        let document = roxmltree::Document::parse(file.content).map_err(|e| PolicyError::Xml {
            file: file.file_name,
            reason: e.to_string(),
        })?;
        let root = document.root_element();
        let attribute = |name: &str| {
            root.attribute(name)
                .map(str::to_owned)
                .ok_or_else(|| malformed(&format!("definitions has no {name}")))
        };
        let decisions: Vec<_> = root
            .children()
            .filter(|n| n.has_tag_name("decision"))
            .collect();
        let [decision] = decisions.as_slice() else {
            return Err(malformed("expected exactly one decision"));
        };
        let version = decision
            .descendants()
            .find(|n| n.has_tag_name((ZEEBE_NS, "versionTag")))
            .and_then(|n| n.attribute("value"))
            .ok_or_else(|| malformed("the decision declares no zeebe:versionTag"))?;
        let decision_name = decision
            .attribute("name")
            .ok_or_else(|| malformed("the decision has no name"))?;
        Ok(Self {
            policy_id: attribute("id")?,
            version: version.to_owned(),
            namespace: attribute("namespace")?,
            model_name: attribute("name")?,
            decision_name: decision_name.to_owned(),
        })
    }
}

/// Every embedded version, loaded on first use and kept for the process's life.
fn loaded() -> &'static [Result<DmnPolicy, PolicyError>] {
    static POLICIES: OnceLock<Vec<Result<DmnPolicy, PolicyError>>> = OnceLock::new();
    POLICIES.get_or_init(|| POLICY_FILES.iter().map(DmnPolicy::load).collect())
}

/// The policy of a given declared version, for re-evaluating recorded evidence.
pub fn policy(version: &str) -> Result<&'static DmnPolicy, PolicyError> {
    for entry in loaded() {
        match entry {
            Ok(policy) if policy.reference.version == version => return Ok(policy),
            Ok(_) => {}
            Err(e) => return Err(e.clone()),
        }
    }
    Err(PolicyError::UnknownVersion(version.to_owned()))
}

/// The current policy: the last embedded version. New submissions are evaluated with it.
pub fn current() -> Result<&'static DmnPolicy, PolicyError> {
    match loaded().last() {
        Some(Ok(policy)) => Ok(policy),
        Some(Err(e)) => Err(e.clone()),
        None => Err(PolicyError::UnknownVersion("(none embedded)".to_owned())),
    }
}
