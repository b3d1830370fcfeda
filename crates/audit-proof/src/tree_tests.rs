//! The storage-backed math against `ct-merkle`'s in-memory tree, which is the reference.

use std::collections::HashMap;

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use proptest::prelude::*;
use sha2::Sha256;

use super::*;

/// A store built by appending, the way the service builds it.
fn store(leaves: &[Vec<u8>]) -> HashMap<Subtree, Hash> {
    let mut stored = HashMap::new();
    for (size, data) in leaves.iter().enumerate() {
        let size = size as u64;
        let hash = leaf_hash(data);
        let siblings: Vec<Hash> = append_needs(size)
            .iter()
            .map(|needed| stored[needed])
            .collect();
        stored.insert(
            Subtree {
                level: 0,
                index: size,
            },
            hash,
        );
        for (subtree, node) in append(size, hash, &siblings) {
            stored.insert(subtree, node);
        }
    }
    stored
}

fn reference(leaves: &[Vec<u8>]) -> MemoryBackedTree<Sha256, Vec<u8>> {
    let mut tree = MemoryBackedTree::new();
    for leaf in leaves {
        tree.push(leaf.clone());
    }
    tree
}

fn leaves(count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| format!("entry-{i}").into_bytes())
        .collect()
}

fn root_of(stored: &HashMap<Subtree, Hash>, size: u64) -> Hash {
    assemble(&root_plan(size), stored)
        .unwrap()
        .first()
        .copied()
        .unwrap_or_else(empty_root)
}

#[test]
fn roots_equal_the_reference_for_every_size_up_to_70() {
    let all = leaves(70);
    let stored = store(&all);
    for size in 1..=70 {
        let expected = reference(&all[..size]).root();
        assert_eq!(
            &root_of(&stored, size as u64)[..],
            &expected.as_bytes()[..],
            "size {size}"
        );
    }
    assert_eq!(root_of(&stored, 0), empty_root());
}

#[test]
fn inclusion_paths_equal_the_reference_and_verify() {
    let all = leaves(37);
    let stored = store(&all);
    for size in 1..=37u64 {
        let tree = reference(&all[..size as usize]);
        let root = root_of(&stored, size);
        for leaf in 0..size {
            let path = assemble(&inclusion_plan(size, leaf).unwrap(), &stored).unwrap();
            let expected = tree.prove_inclusion(leaf as usize);
            assert_eq!(
                path.concat(),
                expected.as_bytes(),
                "size {size} leaf {leaf}"
            );
            verify_inclusion(&root, size, leaf, &all[leaf as usize], &path).unwrap();
            assert!(verify_inclusion(&root, size, leaf, b"forged", &path).is_err());
        }
    }
}

#[test]
fn consistency_paths_equal_the_reference_and_verify() {
    let all = leaves(33);
    let stored = store(&all);
    for to in 1..=33u64 {
        let tree = reference(&all[..to as usize]);
        let to_root = root_of(&stored, to);
        for from in 1..=to {
            let path = assemble(&consistency_plan(from, to).unwrap(), &stored).unwrap();
            let expected = tree.prove_consistency((to - from) as usize);
            assert_eq!(path.concat(), expected.as_bytes(), "from {from} to {to}");
            verify_consistency(&root_of(&stored, from), from, &to_root, to, &path).unwrap();
        }
    }
}

#[test]
fn a_rewritten_history_fails_consistency() {
    let honest = leaves(20);
    let mut rewritten = honest.clone();
    rewritten[3] = b"rewritten".to_vec();
    let (old, new) = (store(&honest), store(&rewritten));
    let path = assemble(&consistency_plan(10, 20).unwrap(), &new).unwrap();
    assert!(verify_consistency(&root_of(&old, 10), 10, &root_of(&new, 20), 20, &path).is_err());
}

#[test]
fn plans_refuse_what_has_no_proof() {
    assert_eq!(
        inclusion_plan(3, 3),
        Err(PlanError::LeafOutOfRange { leaf: 3, size: 3 })
    );
    assert_eq!(
        consistency_plan(0, 3),
        Err(PlanError::BadRange { from: 0, to: 3 })
    );
    assert_eq!(
        consistency_plan(4, 3),
        Err(PlanError::BadRange { from: 4, to: 3 })
    );
}

proptest! {
    #[test]
    fn random_sizes_match_the_reference(size in 1u64..300, seed in 0u64..1000) {
        let all = leaves(size as usize);
        let stored = store(&all);
        let leaf = seed % size;
        let tree = reference(&all);
        let expected = tree.root();
        prop_assert_eq!(&root_of(&stored, size)[..], &expected.as_bytes()[..]);
        let path = assemble(&inclusion_plan(size, leaf).unwrap(), &stored).unwrap();
        prop_assert_eq!(path.concat(), tree.prove_inclusion(leaf as usize).as_bytes().to_vec());
    }
}
