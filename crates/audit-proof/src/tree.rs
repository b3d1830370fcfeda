//! RFC 6962 Merkle tree hashing for a log that stores its leaves and every *perfect* subtree
//! (2^k leaves starting at a multiple of 2^k) an append completes. A perfect subtree never
//! changes once complete, so it is written once; every root, audit path and consistency path of
//! any tree size is a right fold over a handful of them. `ct-merkle` says which tree nodes a
//! proof needs (its array-based indices) and verifies proofs; this module maps those nodes onto
//! stored subtrees in two steps, so storage stays with the caller: a plan names the subtrees,
//! the caller fetches their hashes, [`assemble`] folds them.

use std::collections::HashMap;

use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use sha2::{Digest, Sha256};

/// A SHA-256 digest: leaf, node or root hash.
pub type Hash = [u8; 32];

/// The leaf hash's domain separator (RFC 6962 §2.1).
pub const LEAF_PREFIX: u8 = 0x00;
/// The interior node hash's domain separator (RFC 6962 §2.1).
pub const NODE_PREFIX: u8 = 0x01;

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(data);
    hasher.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// A perfect subtree: the `2^level` leaves from `index * 2^level`. Level 0 is one leaf (its hash
/// is the leaf hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subtree {
    /// Height: the subtree holds `2^level` leaves.
    pub level: u8,
    /// Position among the subtrees of that level.
    pub index: u64,
}

impl Subtree {
    /// The first leaf it covers.
    pub fn first_leaf(self) -> u64 {
        self.index << self.level
    }

    /// One past the last leaf it covers.
    pub fn end_leaf(self) -> u64 {
        (self.index + 1) << self.level
    }
}

/// The perfect subtrees that make up leaves `[start, end)`, left to right, each as large as its
/// alignment allows. For the ranges RFC 6962 hashes (a whole tree, or a node's leaves) they come
/// out largest first, and the range's hash is their right fold ([`fold`]).
pub fn decompose(start: u64, end: u64) -> Vec<Subtree> {
    let mut pieces = Vec::new();
    let mut at = start;
    while at < end {
        let mut level = if at == 0 { 63 } else { at.trailing_zeros() };
        while level > 0 && at.saturating_add(1u64 << level) > end {
            level -= 1;
        }
        pieces.push(Subtree {
            level: level as u8,
            index: at >> level,
        });
        at += 1u64 << level;
    }
    pieces
}

/// The hash of consecutive perfect subtrees, largest first: `H(p0, H(p1, … H(pm-2, pm-1)))`, which
/// is RFC 6962's `MTH` of the leaves they cover. `None` for no pieces.
pub fn fold(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(
        rest.iter()
            .rev()
            .fold(*last, |right, left| node_hash(left, &right)),
    )
}

/// The leaves `[start, end)` the array-indexed node `node` of a tree of `size` leaves covers
/// (RFC 9420 §4 layout, which `ct-merkle` uses: leaf `i` is node `2i`, a node's level is its
/// number of trailing one bits); a node on the right edge covers fewer than `2^level`.
fn node_leaves(node: u64, size: u64) -> (u64, u64) {
    let level = node.trailing_ones();
    let start = (node >> (level + 1)) << level;
    (start, (start + (1u64 << level)).min(size))
}

/// What to fetch and fold for one value: each element of the result is the perfect subtrees
/// whose right fold is one hash of the proof (or the root).
pub type Plan = Vec<Vec<Subtree>>;

/// Why a plan could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The leaf is not in a tree of that size.
    #[error("leaf {leaf} is not in a tree of {size} leaves")]
    LeafOutOfRange {
        /// The leaf asked for.
        leaf: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof needs `0 < from <= to`.
    #[error("no consistency proof from {from} to {to} leaves: it needs 0 < from <= to")]
    BadRange {
        /// The older size.
        from: u64,
        /// The newer size.
        to: u64,
    },
}

/// The root of a tree of `size` leaves: one element, the tree's perfect subtrees. Empty for the
/// empty tree (whose root is [`empty_root`]).
pub fn root_plan(size: u64) -> Plan {
    if size == 0 {
        Vec::new()
    } else {
        vec![decompose(0, size)]
    }
}

/// The audit path of `leaf` in a tree of `size` leaves (RFC 6962 §2.1.1 `PATH`), bottom up.
pub fn inclusion_plan(size: u64, leaf: u64) -> Result<Plan, PlanError> {
    if leaf >= size {
        return Err(PlanError::LeafOutOfRange { leaf, size });
    }
    Ok(ct_merkle::indices_for_inclusion_proof(size, leaf)
        .into_iter()
        .map(|node| {
            let (start, end) = node_leaves(node, size);
            decompose(start, end)
        })
        .collect())
}

/// The consistency proof from `from` leaves to `to` leaves (RFC 6962 §2.1.2 `PROOF`).
pub fn consistency_plan(from: u64, to: u64) -> Result<Plan, PlanError> {
    if from == 0 || from > to {
        return Err(PlanError::BadRange { from, to });
    }
    Ok(ct_merkle::indices_for_consistency_proof(from, to - from)
        .into_iter()
        .map(|node| {
            let (start, end) = node_leaves(node, to);
            decompose(start, end)
        })
        .collect())
}

/// Every subtree a plan needs, once each, for one fetch.
pub fn subtrees_of(plan: &Plan) -> Vec<Subtree> {
    let mut all: Vec<Subtree> = plan.iter().flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// A subtree the caller did not supply: the store lacks a subtree it should hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("subtree level {} index {} is missing from the store", .0.level, .0.index)]
pub struct MissingSubtree(pub Subtree);

/// Folds a plan's subtrees into its hashes, in the plan's order.
pub fn assemble(plan: &Plan, hashes: &HashMap<Subtree, Hash>) -> Result<Vec<Hash>, MissingSubtree> {
    plan.iter()
        .map(|pieces| {
            let found = pieces
                .iter()
                .map(|piece| hashes.get(piece).copied().ok_or(MissingSubtree(*piece)))
                .collect::<Result<Vec<Hash>, MissingSubtree>>()?;
            Ok(fold(&found).unwrap_or_else(empty_root))
        })
        .collect()
}

/// The left siblings an append of leaf number `size` (0-based: the tree had `size` leaves)
/// needs, lowest first: one per perfect subtree the new leaf completes.
pub fn append_needs(size: u64) -> Vec<Subtree> {
    completed_by_append(size)
        .into_iter()
        .map(|parent| Subtree {
            level: parent.level - 1,
            index: parent.index * 2,
        })
        .collect()
}

/// The perfect subtrees (level ≥ 1) that leaf number `size` completes, lowest first.
pub fn completed_by_append(size: u64) -> Vec<Subtree> {
    let count = size + 1;
    (1..64u8)
        .take_while(|level| count.is_multiple_of(1u64 << level))
        .map(|level| Subtree {
            level,
            index: (count >> level) - 1,
        })
        .collect()
}

/// The subtrees an append of leaf number `size` with hash `leaf` completes, with their hashes,
/// given the left siblings [`append_needs`] named (in that order).
pub fn append(size: u64, leaf: Hash, left_siblings: &[Hash]) -> Vec<(Subtree, Hash)> {
    let mut right = leaf;
    completed_by_append(size)
        .into_iter()
        .zip(left_siblings)
        .map(|(parent, left)| {
            right = node_hash(left, &right);
            (parent, right)
        })
        .collect()
}

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The proof does not lead to the root it claims.
    #[error("the proof does not lead to the root: {0}")]
    Invalid(String),
}

fn output(hash: &Hash) -> ct_merkle::digest::Output<Sha256> {
    (*hash).into()
}

/// Checks that `leaf_data` (the entry's canonical bytes) is leaf `leaf` of the tree of `size`
/// leaves with root `root`, by the audit path `path` (bottom up).
pub fn verify_inclusion(
    root: &Hash,
    size: u64,
    leaf: u64,
    leaf_data: &[u8],
    path: &[Hash],
) -> Result<(), ProofError> {
    let root = RootHash::<Sha256>::new(output(root), size);
    let digests: Vec<_> = path.iter().map(output).collect();
    let proof = InclusionProof::<Sha256>::from_digests(digests.iter());
    root.verify_inclusion(&leaf_data, leaf, &proof)
        .map_err(|error| ProofError::Invalid(format!("{error:?}")))
}

/// Checks that the tree of `from` leaves with root `from_root` is a prefix of the tree of `to`
/// leaves with root `to_root`, by the consistency path `path`.
pub fn verify_consistency(
    from_root: &Hash,
    from: u64,
    to_root: &Hash,
    to: u64,
    path: &[Hash],
) -> Result<(), ProofError> {
    let old = RootHash::<Sha256>::new(output(from_root), from);
    let new = RootHash::<Sha256>::new(output(to_root), to);
    let digests: Vec<_> = path.iter().map(output).collect();
    let proof = ConsistencyProof::<Sha256>::from_digests(digests.iter());
    new.verify_consistency(&old, &proof)
        .map_err(|error| ProofError::Invalid(format!("{error:?}")))
}

#[cfg(test)]
#[path = "tree_tests.rs"]
mod tests;
